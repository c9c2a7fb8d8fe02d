// Builds the fleet coordinator from the configuration: the password and CA files read at start (an operator error is
// CONFIG_INVALID at once), ioredis loaded only at the first certificate, timings derived from --timeout.
import { X509Certificate } from 'node:crypto';
import { StaplerdError } from '../errors/index.js';
import { DEFAULT_MAX_CERTIFICATE_FILE_BYTES, readRegularFileSync } from '../fs/read-regular-file.js';
import { encodePem, readCertificateFile } from '../pki/pem.js';
import type { EventLogger } from '../log/index.js';
import type { Clock } from '../types/index.js';
import { FleetCoordinator, type FleetTiming } from './fleet-coordinator.js';

export interface FleetSettings {
  /** redis://, rediss:// or redis-sentinel:// URL (validated by config/). */
  readonly url: string;
  readonly prefix: string;
  readonly passwordFile?: string;
  /** --fleet-ca-file: PEM CA certificate(s) trusted for a rediss:// server instead of the system CAs. */
  readonly caFile?: string;
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
  const ca = settings.caFile === undefined ? undefined : readCaFile(settings.caFile);
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
        ca,
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

/** The CA certificates of --fleet-ca-file as PEM, each checked to parse now rather than at the first TLS handshake. */
function readCaFile(path: string): string[] {
  let bytes: Buffer;
  try {
    // A CA bundle: the certificate files' cap (Mozilla's ~150 roots are ~250 KiB).
    bytes = readRegularFileSync(path, { maxBytes: DEFAULT_MAX_CERTIFICATE_FILE_BYTES });
  } catch (thrown) {
    const reason = thrown instanceof StaplerdError ? thrown.message : (thrown as Error).message;
    throw new StaplerdError('CONFIG_INVALID', `--fleet-ca-file ${path}: cannot be read: ${reason}`, { file: path }, { cause: thrown });
  }
  const notPem = (detail: string, cause?: unknown): StaplerdError =>
    new StaplerdError('CONFIG_INVALID', `--fleet-ca-file ${path}: ${detail}`, { file: path }, cause === undefined ? undefined : { cause });
  if (!bytes.toString('latin1').includes('-----BEGIN ')) throw notPem('is not PEM: it must hold "-----BEGIN CERTIFICATE-----" blocks');
  let certificates: Uint8Array[];
  try {
    certificates = readCertificateFile(bytes, path).certificates;
    for (const der of certificates) new X509Certificate(der);
  } catch (thrown) {
    throw notPem(`holds a PEM certificate that does not parse: ${(thrown as Error).message}`, thrown);
  }
  if (certificates.length === 0) throw notPem('holds no PEM CERTIFICATE block');
  return certificates.map((der) => encodePem('CERTIFICATE', der));
}
