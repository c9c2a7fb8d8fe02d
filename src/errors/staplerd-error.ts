// The one error type of staplerd: a stable code, a human message, and the file or URL it concerns.
import { ERROR_CODES, type ErrorCode } from './error-codes.js';
import { redactSecrets } from './redact-secrets.js';

export interface ErrorContext {
  /** The certificate, staple or configuration file concerned. */
  readonly file?: string;
  /** The responder or AIA URL concerned. */
  readonly url?: string;
  /** Seconds the server asked us to wait (HTTP Retry-After), when it did. */
  readonly retryAfterSeconds?: number;
}

export class StaplerdError extends Error {
  override readonly name = 'StaplerdError';
  readonly code: ErrorCode;
  readonly file?: string;
  readonly url?: string;
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    // Every message and URL is logged or printed somewhere: no password may ride along (redact-secrets.ts).
    super(redactSecrets(message), options);
    this.code = code;
    this.file = context.file;
    this.url = context.url === undefined ? undefined : redactSecrets(context.url);
    this.retryAfterSeconds = context.retryAfterSeconds;
  }

  /** A copy naming the file, for errors raised deep down where the file was not known. */
  withFile(file: string): StaplerdError {
    if (this.file === file) return this;
    return new StaplerdError(this.code, this.message, { file, url: this.url, retryAfterSeconds: this.retryAfterSeconds }, { cause: this.cause });
  }
}

/** Wraps anything thrown into a StaplerdError, keeping an existing code. */
export function toStaplerdError(error: unknown, fallback: ErrorCode = 'INTERNAL', context: ErrorContext = {}): StaplerdError {
  if (error instanceof StaplerdError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StaplerdError(fallback, message, context, { cause: error });
}

/**
 * Wraps anything thrown into a StaplerdError with this code, even when it already had one: for a caller that knows
 * what failed better than the layer below (a state save failing inside the generic atomic write is STATE_WRITE_FAILED,
 * not the staple's WRITE_FAILED). The message, file and URL are kept; the original error stays the cause.
 */
export function recodeError(error: unknown, code: ErrorCode, context: ErrorContext = {}): StaplerdError {
  const inner = error instanceof StaplerdError ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const file = inner?.file ?? context.file;
  const url = inner?.url ?? context.url;
  return new StaplerdError(code, message, { file, url, retryAfterSeconds: inner?.retryAfterSeconds ?? context.retryAfterSeconds }, { cause: error });
}

export { ERROR_CODES };
