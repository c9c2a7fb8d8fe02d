// Builds the fleet coordinator from the configuration: the password file read at start (an operator error is
// CONFIG_INVALID at once), ioredis loaded only at the first certificate, timings derived from --timeout.
import { StaplerdError } from '../errors/index.js';
import { readRegularFileSync } from '../fs/read-regular-file.js';
import type { EventLogger } from '../log/index.js';
import type { Clock } from '../types/index.js';
import { FleetCoordinator, type FleetTiming } from './fleet-coordinator.js';

export interface FleetSettings {
  /** redis://, rediss:// or redis-sentinel:// URL (validated by config/). */
  readonly url: string;
  readonly prefix: string;
  readonly passwordFile?: string;
  /** --timeout: one HTTP attempt's limit, which bounds how long a lease holder may take. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

/** A password file holds one line; anything larger is not one. */
const MAX_PASSWORD_FILE_BYTES = 4096;

/** Redis commands are answered in well under a millisecond; a second means Redis is stopped or wedged. */
export const FLEET_COMMAND_TIMEOUT_MS = 1_000;

/**
 * A holder's fetch is at most a GET and a POST per responder URL, each within --timeout; two attempts and 5 s of slack
 * cover the usual single URL. A holder that dies loses the lease this long after taking it.
 */
export function deriveFleetTiming(timeoutMs: number): FleetTiming {
  return { leaseMs: 2 * timeoutMs + 5_000, pollMs: 1_000, retryAfterErrorMs: 5_000 };
}

export function createFleetCoordinator(settings: FleetSettings, deps: { clock: Clock; logger: EventLogger }): FleetCoordinator {
  const password = settings.passwordFile === undefined ? undefined : readPasswordFile(settings.passwordFile);
  return new FleetCoordinator({
    prefix: settings.prefix,
    clock: deps.clock,
    logger: deps.logger,
    timing: deriveFleetTiming(settings.timeoutMs),
    maxValueBytes: settings.maxResponseBytes,
    connectWaitMs: 2_000,
    connect: async () => {
      const { connectFleetRedis } = await import('./redis-client.js');
      return connectFleetRedis({
        url: settings.url,
        password,
        commandTimeoutMs: FLEET_COMMAND_TIMEOUT_MS,
        // Each outage is logged once by the coordinator when a command fails; the client's own errors add nothing.
        onError: () => {},
      });
    },
  });
}

function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readRegularFileSync(path, { maxBytes: MAX_PASSWORD_FILE_BYTES }).toString('utf8');
  } catch (thrown) {
    const reason = thrown instanceof StaplerdError ? thrown.message : (thrown as Error).message;
    throw new StaplerdError('CONFIG_INVALID', `--fleet-password-file ${path}: cannot be read: ${reason}`, { file: path }, { cause: thrown });
  }
  // One line; the trailing newline an editor or `echo` adds is not part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (password === '' || /[\r\n]/.test(password)) {
    throw new StaplerdError('CONFIG_INVALID', `--fleet-password-file ${path}: must hold the password on one line`, { file: path });
  }
  return password;
}
