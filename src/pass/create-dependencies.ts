// Wires the real clock, randomness, HTTP client (with the configured proxy) and logger for a pass (tests build their own PassDependencies).
import { randomBytes } from 'node:crypto';
import type { StaplerdConfig } from '../config/index.js';
import { createFleetCoordinator, type FleetSettings } from '../fleet/index.js';
import { createLogger, type EventLogger } from '../log/index.js';
import { createCaIssuerFetcher, createHostLimiter, createHttpClient, type CaIssuerFetcher, type ClosableHttpClient, type HostLimiter } from '../ocsp/index.js';
import { systemClock, systemRandom, type FetchObservation } from '../types/index.js';
import { USER_AGENT } from '../version.js';
import type { PassDependencies } from './pass-types.js';

export interface LiveDependencies extends PassDependencies {
  readonly http: ClosableHttpClient;
  close(): Promise<void>;
}

export interface LiveDependencyOptions {
  readonly logger?: EventLogger;
  /** The daemon's metrics: told about every OCSP attempt. */
  readonly observeFetch?: (observation: FetchObservation) => void;
}

/** Throws CONFIG_INVALID when a proxy (the `proxy` key or HTTP(S)_PROXY) is not a usable proxy URL. */
export function createLiveDependencies(config: StaplerdConfig, options: LiveDependencyOptions = {}): LiveDependencies {
  // The one client serves OCSP and AIA caIssuers downloads alike, so both take the same proxy route.
  const http = createHttpClient({ userAgent: USER_AGENT, proxy: config.proxy });
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  // Reads --fleet-password-file and --fleet-ca-file now (CONFIG_INVALID at start); Redis itself is connected at the first certificate.
  const fleet = config.fleet === undefined ? undefined : createFleetCoordinator(fleetSettingsOf({ ...config, fleet: config.fleet }), { clock: systemClock, logger });
  return {
    clock: systemClock,
    random: systemRandom,
    logger,
    http,
    randomBytes: (length) => new Uint8Array(randomBytes(length)),
    observeFetch: options.observeFetch,
    ...(fleet ? { fleet } : {}),
    async close() {
      http.close();
      await fleet?.close();
      await logger.close();
    },
  };
}

function fleetSettingsOf(config: StaplerdConfig & { fleet: string }): FleetSettings {
  return {
    url: config.fleet,
    prefix: config.fleetPrefix,
    passwordFile: config.fleetPasswordFile,
    caFile: config.fleetCaFile,
    timeoutMs: config.timeoutMs,
    maxResponseBytes: config.maxResponseBytes,
  };
}

/**
 * The AIA caIssuers fetcher for the configured transport (one place for `once` and `run`). `run` keeps one across
 * passes, so each intermediate is downloaded once per configuration; a pass of its own shares the pass's limiter.
 */
export function createPassCaIssuerFetcher(
  config: StaplerdConfig,
  deps: PassDependencies,
  limiter: HostLimiter = createHostLimiter({ perHost: config.perHostConcurrency, global: config.concurrency }),
): CaIssuerFetcher {
  return createCaIssuerFetcher({
    http: deps.http,
    limiter,
    timeoutMs: config.timeoutMs,
    maxBodyBytes: config.maxResponseBytes,
    userAgent: USER_AGENT,
    now: () => deps.clock.now(),
  });
}
