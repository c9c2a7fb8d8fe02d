// When to try again after a failed fetch: pure, with time and randomness passed in.
import { policyForCode, type ErrorCode } from '../errors/index.js';
import type { RandomSource } from '../types/index.js';

export interface BackoffInput {
  readonly now: Date;
  /** Failures in a row including the one just seen; values below 1 count as 1. */
  readonly consecutiveFailures: number;
  /** HTTP Retry-After from the responder (RFC 9110 section 10.2.3), when it sent one. */
  readonly retryAfterSeconds?: number;
  /** nextUpdate - minRemainingMs of the staple on disk, when there is one: after this it is no longer usable. */
  readonly stapleUsableUntil?: Date;
  readonly random: RandomSource;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

const DEFAULT_BASE_DELAY_MS = 60_000;
const DEFAULT_MAX_DELAY_MS = 60 * 60_000;
/** A responder may ask for a pause, but not for longer than this: a hostile or broken Retry-After must not silence us. */
const MAX_RETRY_AFTER_MS = 6 * 60 * 60_000;

/**
 * Exponential backoff (base doubling per failure, capped) with "equal jitter" (AWS Architecture Blog, "Exponential
 * Backoff and Jitter"): a delay uniformly in [half, full] of the backoff, so retries spread out but never come
 * back almost at once. Retry-After is honoured as a lower bound (capped at 6 h). The result is never later than
 * stapleUsableUntil while that is still ahead: one last attempt before the current staple dies beats obeying the
 * schedule and letting it expire.
 */
export function computeNextAttempt(input: BackoffInput): Date {
  const nowMs = input.now.getTime();
  const delayMs = Math.max(computeJitteredBackoffMs(input), computeRetryAfterMs(input.retryAfterSeconds));
  const attemptMs = nowMs + delayMs;
  const usableUntilMs = input.stapleUsableUntil?.getTime();
  if (usableUntilMs !== undefined && usableUntilMs > nowMs) return new Date(Math.floor(Math.min(attemptMs, usableUntilMs)));
  return new Date(Math.floor(attemptMs));
}

function computeJitteredBackoffMs(input: BackoffInput): number {
  const baseDelayMs = input.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const maxDelayMs = input.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const failures = Math.max(1, Math.floor(input.consecutiveFailures));
  // 2 ** large overflows to Infinity, which Math.min turns into the cap.
  const backoffMs = Math.min(baseDelayMs * 2 ** (failures - 1), maxDelayMs);
  return backoffMs / 2 + (backoffMs / 2) * input.random();
}

/** Negative, NaN or infinite values are ignored rather than trusted. */
function computeRetryAfterMs(retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds === undefined || !Number.isFinite(retryAfterSeconds) || retryAfterSeconds <= 0) return 0;
  return Math.min(retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS);
}

export interface FailureRetryInput extends BackoffInput {
  /** The code of the failure just seen: its `retry` column in ERROR_CODES decides whether time can help. */
  readonly code: ErrorCode;
}

/**
 * The next attempt after a failure, as the code's row in ERROR_CODES says: on the time-based backoff when a later
 * attempt may succeed (`retry: true`), or undefined when it cannot (`retry: false`, e.g. URL_UNSUPPORTED: an ftp://
 * responder URL stays one however long we wait): then only a change of the input (the certificate, the responder
 * URLs, `once --force`) brings another attempt (see isAwaitingInputChange).
 */
export function decideNextAttempt(input: FailureRetryInput): Date | undefined {
  return policyForCode(input.code).retry ? computeNextAttempt(input) : undefined;
}

/** What a failure that time cannot heal was about, and what is there now. */
export interface InputChangeCheck {
  readonly consecutiveFailures: number;
  readonly lastErrorCode?: ErrorCode;
  /** The inputs (e.g. the responder URLs) when that failure was recorded. */
  readonly failedInput?: string;
  readonly currentInput: string;
}

/** True while the last failure was one `retry: false` declares hopeless and its input is still the same. */
export function isAwaitingInputChange(check: InputChangeCheck): boolean {
  if (check.consecutiveFailures <= 0 || check.lastErrorCode === undefined) return false;
  return !policyForCode(check.lastErrorCode).retry && check.failedInput === check.currentInput;
}

export interface FailedPassInput {
  readonly now: Date;
  /** The code of the error that ended the whole pass (`pass.failed`). */
  readonly code: ErrorCode;
  /** Whole passes failed in a row, including this one. */
  readonly consecutiveFailedPasses: number;
  readonly random: RandomSource;
}

/**
 * When `run` tries again after a whole pass failed (not one certificate: the state dir, the clock, a bug). The code's
 * `retry` column decides, as for a certificate: a retryable failure is retried on the same backoff (1 min doubling to
 * 1 h, jittered) so an outage is not hammered every minute; one time cannot heal (CONFIG_INVALID, CERT_UNREADABLE from
 * a permission, DIRECTORY_UNREADABLE) gets no timer of its own (undefined): the next due staple, the --sweep, a file
 * change or SIGHUP brings the next pass.
 */
export function decideRetryAfterFailedPass(input: FailedPassInput): Date | undefined {
  return decideNextAttempt({ now: input.now, code: input.code, consecutiveFailures: input.consecutiveFailedPasses, random: input.random });
}
