// Whether a staple can be served at an instant: before nextUpdate - minRemainingMs, never at that instant itself.
import { describe, expect, it } from '@jest/globals';
import { computeUsableUntil, isGoodAt, isUsableAt } from '../../src/policy/index.js';

const NEXT_UPDATE = new Date('2025-05-08T00:00:00Z');
const at = (offsetMs: number) => new Date(NEXT_UPDATE.getTime() + offsetMs);

describe('isUsableAt', () => {
  it.each([
    { label: 'is usable a millisecond before nextUpdate', offsetMs: -1, minRemainingMs: 0, expected: true },
    { label: 'is not usable at nextUpdate itself', offsetMs: 0, minRemainingMs: 0, expected: false },
    { label: 'is not usable within the margin before nextUpdate', offsetMs: -59_999, minRemainingMs: 60_000, expected: false },
    { label: 'is usable just before the margin starts', offsetMs: -60_001, minRemainingMs: 60_000, expected: true },
  ])('$label', ({ offsetMs, minRemainingMs, expected }) => {
    expect(isUsableAt({ nextUpdate: NEXT_UPDATE }, at(offsetMs), minRemainingMs)).toBe(expected);
  });

  it('is not usable when there is no staple', () => {
    expect(isUsableAt(undefined, at(-1_000_000))).toBe(false);
  });
});

describe('isGoodAt', () => {
  it.each(['revoked', 'unknown'])('refuses a usable %s staple', (certStatus) => {
    expect(isGoodAt({ certStatus, nextUpdate: NEXT_UPDATE }, at(-1000))).toBe(false);
  });

  it('accepts a usable good staple and refuses it once the margin is reached', () => {
    expect(isGoodAt({ certStatus: 'good', nextUpdate: NEXT_UPDATE }, at(-1000), 999)).toBe(true);
    expect(isGoodAt({ certStatus: 'good', nextUpdate: NEXT_UPDATE }, at(-1000), 1000)).toBe(false);
  });
});

describe('computeUsableUntil', () => {
  it('is nextUpdate minus the margin', () => {
    expect(computeUsableUntil({ nextUpdate: NEXT_UPDATE }, 3_600_000)).toEqual(at(-3_600_000));
  });
});
