// Refresh timing at fixed instants: halfway point, jitter spread and the two clamps.
import { describe, it, expect } from '@jest/globals';
import { computeRefreshAt, isRefreshDue } from '../../src/policy/index.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const T0 = new Date('2025-01-01T00:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);
const constant = (value: number) => (): number => value;

describe('computeRefreshAt', () => {
  const sevenDays = { thisUpdate: T0, nextUpdate: at(7 * DAY_MS) };

  it.each([
    // 7-day window: halfway is day 3.5 (2025-01-04T12:00Z); jitter is +-5% of 7 days = 8.4 h.
    { random: 0, expected: '2025-01-04T03:36:00.000Z' },
    { random: 0.5, expected: '2025-01-04T12:00:00.000Z' },
    { random: 0.999, expected: '2025-01-04T20:22:59.520Z' },
  ])('refreshes a 7-day staple at day 3.5 with jitter (random $random -> $expected)', ({ random, expected }) => {
    const refreshAt = computeRefreshAt(sevenDays, { minRemainingMs: 5 * MINUTE_MS, random: constant(random) });
    expect(refreshAt.toISOString()).toBe(expected);
  });

  it.each([0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999])('keeps the jitter within +-5%% of the window (random %p)', (random) => {
    const refreshAt = computeRefreshAt(sevenDays, { minRemainingMs: 5 * MINUTE_MS, random: constant(random) }).getTime();
    expect(refreshAt).toBeGreaterThanOrEqual(at(0.45 * 7 * DAY_MS).getTime());
    expect(refreshAt).toBeLessThan(at(0.55 * 7 * DAY_MS).getTime());
  });

  it('applies a custom jitter fraction', () => {
    const refreshAt = computeRefreshAt(sevenDays, { minRemainingMs: 0, random: constant(0), jitterFraction: 0.1 });
    expect(refreshAt).toEqual(at(0.4 * 7 * DAY_MS));
  });

  it('has no spread when the jitter fraction is 0', () => {
    const refreshAt = computeRefreshAt(sevenDays, { minRemainingMs: 0, random: constant(0.999), jitterFraction: 0 });
    expect(refreshAt).toEqual(at(3.5 * DAY_MS));
  });

  it.each([
    // 10-minute window, 5-minute margin: halfway (5 min) is the latest allowed instant, so positive jitter is clipped.
    { random: 0, expectedOffsetMs: 4.5 * MINUTE_MS },
    { random: 0.5, expectedOffsetMs: 5 * MINUTE_MS },
    { random: 0.999, expectedOffsetMs: 5 * MINUTE_MS },
  ])('never refreshes a 10-minute staple later than nextUpdate - 5 min (random $random)', ({ random, expectedOffsetMs }) => {
    const window = { thisUpdate: T0, nextUpdate: at(10 * MINUTE_MS) };
    const refreshAt = computeRefreshAt(window, { minRemainingMs: 5 * MINUTE_MS, random: constant(random) });
    expect(refreshAt).toEqual(at(expectedOffsetMs));
    expect(refreshAt.getTime()).toBeLessThanOrEqual(at(5 * MINUTE_MS).getTime());
  });

  it('moves the refresh earlier when the margin exceeds half the window', () => {
    const window = { thisUpdate: T0, nextUpdate: at(10 * MINUTE_MS) };
    const refreshAt = computeRefreshAt(window, { minRemainingMs: 8 * MINUTE_MS, random: constant(0.5) });
    expect(refreshAt).toEqual(at(2 * MINUTE_MS));
  });

  it('refreshes at thisUpdate, not before, when the margin is longer than the whole window', () => {
    const window = { thisUpdate: T0, nextUpdate: at(10 * MINUTE_MS) };
    const refreshAt = computeRefreshAt(window, { minRemainingMs: 15 * MINUTE_MS, random: constant(0) });
    expect(refreshAt).toEqual(T0);
  });

  it('refreshes at thisUpdate for an empty or inverted window', () => {
    const window = { thisUpdate: T0, nextUpdate: at(-MINUTE_MS) };
    expect(computeRefreshAt(window, { minRemainingMs: 0, random: constant(0.5) })).toEqual(T0);
  });

  it('returns whole milliseconds', () => {
    const window = { thisUpdate: T0, nextUpdate: at(3) };
    const refreshAt = computeRefreshAt(window, { minRemainingMs: 0, random: constant(0.5) });
    expect(refreshAt).toEqual(at(1));
  });
});

describe('isRefreshDue', () => {
  const refreshAt = at(DAY_MS);

  it.each([
    { label: 'no staple (no refresh time)', refreshAt: undefined, now: T0, expected: true },
    { label: 'before refreshAt', refreshAt, now: at(DAY_MS - 1), expected: false },
    { label: 'exactly at refreshAt', refreshAt, now: at(DAY_MS), expected: true },
    { label: 'after refreshAt', refreshAt, now: at(2 * DAY_MS), expected: true },
  ])('is $expected $label', ({ refreshAt: when, now, expected }) => {
    expect(isRefreshDue(when, now)).toBe(expected);
  });
});
