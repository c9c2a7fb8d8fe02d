// Wires the real clock, randomness, HTTP client and logger for a pass (tests build their own PassDependencies).
import { randomBytes } from 'node:crypto';
import type { StaplerdConfig } from '../config/index.js';
import { createLogger, type EventLogger } from '../log/index.js';
import { createHttpClient, type ClosableHttpClient } from '../ocsp/index.js';
import { systemClock, systemRandom } from '../types/index.js';
import { USER_AGENT } from '../version.js';
import type { PassDependencies } from './pass-types.js';

export interface LiveDependencies extends PassDependencies {
  readonly http: ClosableHttpClient;
  close(): Promise<void>;
}

export function createLiveDependencies(config: StaplerdConfig, options: { logger?: EventLogger } = {}): LiveDependencies {
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const http = createHttpClient({ userAgent: USER_AGENT });
  return {
    clock: systemClock,
    random: systemRandom,
    logger,
    http,
    randomBytes: (length) => new Uint8Array(randomBytes(length)),
    async close() {
      http.close();
      await logger.close();
    },
  };
}
