// Logs a failure at the level its code's row in ERROR_CODES decides, so no call site picks a level by hand.
import { policyForCode, type StaplerdError } from '../errors/index.js';
import type { EventFields, EventLogger, LoggerLevel } from './logger.js';

export interface FailureOptions {
  /**
   * The certificate carries the TLS Feature extension (RFC 7633): clients that enforce it refuse the site without a
   * staple, so every failure about it is raised to error (docs/cli.md "Error codes").
   */
  readonly mustStaple?: boolean;
  /** The event's message when it says more than the error's (what staplerd does about it); default error.message. */
  readonly message?: string;
}

/** The level a failure is logged at: the code's row, or error for a must-staple certificate. */
export function chooseFailureLevel(error: Pick<StaplerdError, 'code'>, options: FailureOptions = {}): LoggerLevel {
  return options.mustStaple ? 'error' : policyForCode(error.code).level;
}

/**
 * One structured event for a failure: the error's message, its code, and the file and URL it names (the caller's
 * fields fill in what the error does not know).
 */
export function logFailure(logger: EventLogger, event: string, error: StaplerdError, fields: EventFields = {}, options: FailureOptions = {}): void {
  logger.log(chooseFailureLevel(error, options), event, options.message ?? error.message, {
    ...fields,
    code: error.code,
    file: fields.file ?? error.file,
    url: error.url ?? fields.url,
    mustStaple: options.mustStaple || undefined,
  });
}
