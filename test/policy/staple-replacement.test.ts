// A new response replaces the staple only when strictly newer.
import { describe, it, expect } from '@jest/globals';
import { shouldReplaceStaple } from '../../src/policy/index.js';

const times = (thisUpdate: string, producedAt: string) => ({ thisUpdate: new Date(thisUpdate), producedAt: new Date(producedAt) });
const CURRENT = times('2025-05-01T00:00:00Z', '2025-05-01T00:10:00Z');

describe('shouldReplaceStaple', () => {
  it.each([
    { label: 'replaces when thisUpdate is later', candidate: times('2025-05-02T00:00:00Z', '2025-05-01T00:00:00Z'), expected: true },
    { label: 'replaces when thisUpdate is equal and producedAt later', candidate: times('2025-05-01T00:00:00Z', '2025-05-01T00:10:00.001Z'), expected: true },
    { label: 'keeps when both times are equal', candidate: times('2025-05-01T00:00:00Z', '2025-05-01T00:10:00Z'), expected: false },
    { label: 'keeps when thisUpdate is equal and producedAt earlier', candidate: times('2025-05-01T00:00:00Z', '2025-05-01T00:05:00Z'), expected: false },
    { label: 'keeps when thisUpdate is earlier even with a later producedAt', candidate: times('2025-04-30T00:00:00Z', '2025-05-03T00:00:00Z'), expected: false },
  ])('$label', ({ candidate, expected }) => {
    expect(shouldReplaceStaple(CURRENT, candidate)).toBe(expected);
  });

  it('replaces when there is no current staple', () => {
    expect(shouldReplaceStaple(undefined, times('2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z'))).toBe(true);
  });
});
