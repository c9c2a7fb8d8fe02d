// The daemon's wake-ups under a fake clock: the due timer, and the retry after a failed pass as its code allows.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { PassTimers, type TimerReason } from '../../src/daemon/pass-timers.js';

const NOW = new Date('2031-03-01T12:00:00Z');
const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const midJitter = (): number => 0.5;
/** Jest's fake timers move Date.now() too. */
const systemClock = { now: () => new Date(Date.now()) };

let fired: TimerReason[];
let timers: PassTimers;

beforeEach(() => {
  jest.useFakeTimers({ now: NOW });
  fired = [];
  timers = new PassTimers((reason) => fired.push(reason));
});

afterEach(() => {
  timers.clear();
  jest.useRealTimers();
});

describe('PassTimers', () => {
  it('wakes for the due staple after the delay the good pass computed', () => {
    timers.afterPass(10 * MINUTE_MS);
    jest.advanceTimersByTime(10 * MINUTE_MS - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual(['due']);
  });

  it('does not hammer a failure time cannot fix: no retry, and the due time of the last good pass stays', () => {
    timers.afterPass(30 * MINUTE_MS);
    const retry = timers.afterFailedPass('CONFIG_INVALID', { now: () => NOW }, midJitter);
    expect(retry).toEqual({ retryAt: undefined, consecutiveFailures: 1 });
    jest.advanceTimersByTime(29 * MINUTE_MS);
    // The old daemon retried every 60 s whatever the code: 29 retries here.
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(MINUTE_MS);
    expect(fired).toEqual(['due']);
  });

  it('retries a retryable failure on a growing backoff, and starts over after a good pass', () => {
    const first = timers.afterFailedPass('INTERNAL', { now: () => NOW }, midJitter);
    expect(first).toEqual({ retryAt: new Date(NOW.getTime() + 45 * SECOND_MS), consecutiveFailures: 1 });
    jest.advanceTimersByTime(45 * SECOND_MS);
    expect(fired).toEqual(['retry']);
    const second = timers.afterFailedPass('INTERNAL', systemClock, midJitter);
    expect(second.retryAt!.getTime() - Date.now()).toBe(90 * SECOND_MS);
    const third = timers.afterFailedPass('INTERNAL', systemClock, midJitter);
    expect(third.retryAt!.getTime() - Date.now()).toBe(180 * SECOND_MS);
    timers.afterPass(undefined);
    jest.advanceTimersByTime(180 * SECOND_MS);
    // The good pass cancelled the pending retry.
    expect(fired).toEqual(['retry']);
    const afterGood = timers.afterFailedPass('INTERNAL', systemClock, midJitter);
    expect(afterGood.consecutiveFailures).toBe(1);
  });

  it('starts the backoff afresh after a reload', () => {
    timers.afterFailedPass('INTERNAL', { now: () => NOW }, midJitter);
    timers.afterFailedPass('INTERNAL', { now: () => NOW }, midJitter);
    timers.resetFailures();
    expect(timers.afterFailedPass('INTERNAL', { now: () => NOW }, midJitter)).toEqual({ retryAt: new Date(NOW.getTime() + 45 * SECOND_MS), consecutiveFailures: 1 });
  });
});
