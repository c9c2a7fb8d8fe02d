// What a pass remembers about each certificate between passes: the shape history.json keeps.
import type { ErrorCode } from '../errors/index.js';

/** What staplerd remembers about one certificate between passes (in memory in `run`). */
export interface TargetHistory {
  consecutiveFailures: number;
  /**
   * Earliest instant of the next attempt: after a failure (backoff), or after a valid answer that was already due
   * for refresh when fetched (a responder or CDN replaying its cached response; then consecutiveFailures is 0).
   */
  nextAttemptAt?: Date;
  /** When a pass last found this certificate: entries of certificates gone for long are forgotten (state-store). */
  lastSeenAt?: Date;
  /** Valid but already-due answers in a row: drives the same doubling backoff as failures, without being one. */
  staleAnswers?: number;
  lastErrorCode?: ErrorCode;
  lastErrorMessage?: string;
  /**
   * The inputs (responder URLs) of a failure whose code is `retry: false` in ERROR_CODES: no new attempt until they
   * (or the certificate, which changes the key) change. Undefined after retryable failures.
   */
  failedInput?: string;
  /** Jittered refresh instant, remembered per staple (keyed by its thisUpdate) so it is not re-rolled each pass. */
  refreshAt?: Date;
  refreshForThisUpdateMs?: number;
  /** With --fleet: whether the staple last written was fetched by this host or taken from the fleet. */
  stapleSource?: 'fetched' | 'fleet';
}

export type HistoryStore = Map<string, TargetHistory>;
