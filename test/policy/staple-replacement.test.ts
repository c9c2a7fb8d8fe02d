// A new response replaces the staple only when strictly newer.
import { describe, it, expect } from '@jest/globals';
import { pickNewestStaple, shouldReplaceStaple, shouldReplaceStapleOnDisk } from '../../src/policy/index.js';

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

const staple = (certStatus: 'good' | 'revoked' | 'unknown', thisUpdate: string) => ({ certStatus, ...times(thisUpdate, thisUpdate) });

describe('shouldReplaceStapleOnDisk', () => {
  it('replaces a good staple with an older revoked answer: a revocation is never hidden behind timestamps', () => {
    expect(shouldReplaceStapleOnDisk(staple('good', '2025-05-02T00:00:00Z'), staple('revoked', '2025-05-01T00:00:00Z'))).toBe(true);
  });

  it('keeps a revoked staple against an older revoked answer', () => {
    expect(shouldReplaceStapleOnDisk(staple('revoked', '2025-05-02T00:00:00Z'), staple('revoked', '2025-05-01T00:00:00Z'))).toBe(false);
  });

  it('keeps a good staple against an older good answer, and takes a newer one', () => {
    const current = staple('good', '2025-05-02T00:00:00Z');
    expect(shouldReplaceStapleOnDisk(current, staple('good', '2025-05-01T00:00:00Z'))).toBe(false);
    expect(shouldReplaceStapleOnDisk(current, staple('good', '2025-05-03T00:00:00Z'))).toBe(true);
  });

  it('writes a file that holds no valid staple', () => {
    expect(shouldReplaceStapleOnDisk(undefined, staple('good', '2000-01-01T00:00:00Z'))).toBe(true);
  });
});

describe('pickNewestStaple', () => {
  it('picks the newest, skipping files without a staple', () => {
    const newest = staple('good', '2025-05-03T00:00:00Z');
    expect(pickNewestStaple([undefined, staple('good', '2025-05-01T00:00:00Z'), newest, staple('good', '2025-05-02T00:00:00Z')])).toBe(newest);
  });

  it('keeps the first of equal staples and answers undefined for none', () => {
    const first = staple('good', '2025-05-01T00:00:00Z');
    expect(pickNewestStaple([first, staple('good', '2025-05-01T00:00:00Z')])).toBe(first);
    expect(pickNewestStaple([undefined, undefined])).toBeUndefined();
  });
});
