// The daemon's own wake-ups: when the earliest staple falls due, and the retry after a whole pass failed.
import type { ErrorCode } from '../errors/index.js';
import { decideRetryAfterFailedPass } from '../policy/index.js';
import type { Clock, RandomSource } from '../types/index.js';

export type TimerReason = 'due' | 'retry';

export interface FailedPassRetry {
  /** When the retry pass runs; undefined when the code says time cannot help (no timer is set). */
  readonly retryAt?: Date;
  /** Whole passes failed in a row, this one included. */
  readonly consecutiveFailures: number;
}

/**
 * Two timers, not one: a failed pass's retry must not cancel the due time the last good pass planned (a failure
 * that is not retried then still leaves the staples' own schedule in place, docs/behaviour.md).
 */
export class PassTimers {
  private dueTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private failedPasses = 0;

  constructor(private readonly onFire: (reason: TimerReason) => void) {}

  /** After a good pass: failures are over; wake after `delayMs` (undefined: nothing due, the sweep covers it). */
  afterPass(delayMs: number | undefined): void {
    this.clear();
    this.failedPasses = 0;
    if (delayMs !== undefined) this.dueTimer = setTimeout(() => this.onFire('due'), delayMs);
  }

  /** After a failed pass: the retry its code allows (policy/retry-backoff.ts), backing off over failed passes in a row. */
  afterFailedPass(code: ErrorCode, clock: Clock, random: RandomSource): FailedPassRetry {
    clearTimeout(this.retryTimer);
    const now = readClock(clock);
    this.failedPasses += 1;
    const retryAt = decideRetryAfterFailedPass({ now, code, consecutiveFailedPasses: this.failedPasses, random });
    if (retryAt) this.retryTimer = setTimeout(() => this.onFire('retry'), Math.max(0, retryAt.getTime() - now.getTime()));
    return { retryAt, consecutiveFailures: this.failedPasses };
  }

  /** New input (SIGHUP): a failure it may have fixed starts its backoff afresh. */
  resetFailures(): void {
    this.failedPasses = 0;
  }

  clear(): void {
    clearTimeout(this.dueTimer);
    clearTimeout(this.retryTimer);
    this.dueTimer = undefined;
    this.retryTimer = undefined;
  }
}

/** The injected clock, or the system's when the clock is what failed the pass: the retry must still be planned. */
function readClock(clock: Clock): Date {
  try {
    return clock.now();
  } catch {
    return new Date();
  }
}
