// Whether a pass fetches for a certificate now, keeps its staples, or waits: pure, with the instant passed in.
import { isRefreshDue } from './refresh-schedule.js';
import { isAwaitingInputChange } from './retry-backoff.js';
import type { ErrorCode } from '../errors/index.js';

/** What is remembered about the certificate's earlier attempts (the pass's TargetHistory fits). */
export interface AttemptHistory {
  readonly consecutiveFailures: number;
  readonly nextAttemptAt?: Date;
  readonly lastErrorCode?: ErrorCode;
  readonly failedInput?: string;
}

export interface FetchDecisionInput {
  readonly now: Date;
  /** `once --force`: fetch whatever the schedule says. */
  readonly force: boolean;
  /** The refresh instant of the newest staple, given only when every staple file holds a valid staple. */
  readonly refreshAt?: Date;
  readonly history?: AttemptHistory;
  /** What a `retry: false` failure is remembered against (the responder URLs). */
  readonly currentInput: string;
}

export type FetchDecision =
  /** The staples stay as they are; the certificate wants attention again at `until` (refreshAt or a stale pause). */
  | { readonly action: 'keep'; readonly until: Date; readonly refreshAt: Date }
  /** A failure is waiting out its backoff, or (awaitingChange) for its input to change. */
  | { readonly action: 'wait'; readonly awaitingChange: boolean }
  | { readonly action: 'fetch' };

/**
 * First match wins:
 * - keep: every file is valid and the refresh instant is not reached, or it is but the responder's last answer was no
 *   newer (a replayed CDN response, RFC 5019 section 6): that pause is waited out instead of asking again at once.
 * - wait: the last failure is one time cannot heal (`retry: false` in ERROR_CODES) and its input is unchanged, or
 *   its backoff instant is ahead.
 * - fetch.
 */
export function decideFetch(input: FetchDecisionInput): FetchDecision {
  const { now, history } = input;
  if (input.force) return { action: 'fetch' };
  if (input.refreshAt) {
    const staleWaitUntil = history && history.consecutiveFailures === 0 && history.nextAttemptAt && now < history.nextAttemptAt ? history.nextAttemptAt : undefined;
    if (!isRefreshDue(input.refreshAt, now) || staleWaitUntil) return { action: 'keep', until: staleWaitUntil ?? input.refreshAt, refreshAt: input.refreshAt };
  }
  if (!history) return { action: 'fetch' };
  const awaitingChange = isAwaitingInputChange({ ...history, currentInput: input.currentInput });
  const backingOff = history.consecutiveFailures > 0 && history.nextAttemptAt !== undefined && now < history.nextAttemptAt;
  return awaitingChange || backingOff ? { action: 'wait', awaitingChange } : { action: 'fetch' };
}
