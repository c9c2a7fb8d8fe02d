// Classifying a certificate's staple for status output.
import { describe, it, expect } from '@jest/globals';
import { classifyStaple, type ClassifyInput, type StapleState } from '../../src/policy/index.js';

const NOW = new Date('2025-06-10T12:00:00Z');
const staple = (certStatus: 'good' | 'revoked' | 'unknown', nextUpdate: string) => ({
  certStatus,
  thisUpdate: new Date('2025-06-08T00:00:00Z'),
  nextUpdate: new Date(nextUpdate),
});
const LATER = '2025-06-15T00:00:00Z';
const EARLIER = '2025-06-09T00:00:00Z';
const FUTURE_REFRESH = new Date('2025-06-11T00:00:00Z');
const PAST_REFRESH = new Date('2025-06-10T00:00:00Z');

const cases: Array<{ label: string; input: Omit<ClassifyInput, 'now'>; expected: StapleState }> = [
  { label: 'a good staple before its refresh time', input: { staple: staple('good', LATER), refreshAt: FUTURE_REFRESH, consecutiveFailures: 0 }, expected: 'fresh' },
  { label: 'a good staple past its refresh time', input: { staple: staple('good', LATER), refreshAt: PAST_REFRESH, consecutiveFailures: 0 }, expected: 'due' },
  { label: 'a good staple exactly at its refresh time', input: { staple: staple('good', LATER), refreshAt: NOW, consecutiveFailures: 0 }, expected: 'due' },
  { label: 'a good staple with no refresh time', input: { staple: staple('good', LATER), consecutiveFailures: 0 }, expected: 'due' },
  { label: 'a still-valid good staple whose refreshes fail', input: { staple: staple('good', LATER), refreshAt: PAST_REFRESH, consecutiveFailures: 3 }, expected: 'due' },
  { label: 'a staple past nextUpdate', input: { staple: staple('good', EARLIER), refreshAt: PAST_REFRESH, consecutiveFailures: 0 }, expected: 'expired' },
  { label: 'a staple exactly at nextUpdate', input: { staple: staple('good', NOW.toISOString()), consecutiveFailures: 0 }, expected: 'expired' },
  { label: 'an expired staple whose refresh failed', input: { staple: staple('good', EARLIER), consecutiveFailures: 1 }, expected: 'failing' },
  { label: 'no staple and a failed attempt', input: { consecutiveFailures: 2 }, expected: 'failing' },
  { label: 'no staple and no attempt yet', input: { consecutiveFailures: 0 }, expected: 'missing' },
  { label: 'a revoked staple', input: { staple: staple('revoked', LATER), refreshAt: FUTURE_REFRESH, consecutiveFailures: 0 }, expected: 'revoked' },
  { label: 'an expired revoked staple with failures', input: { staple: staple('revoked', EARLIER), consecutiveFailures: 4 }, expected: 'revoked' },
  { label: 'an unknown-status staple', input: { staple: staple('unknown', LATER), refreshAt: FUTURE_REFRESH, consecutiveFailures: 0 }, expected: 'unknown' },
  { label: 'an expired unknown-status staple', input: { staple: staple('unknown', EARLIER), consecutiveFailures: 0 }, expected: 'expired' },
];

describe('classifyStaple', () => {
  it.each(cases)('classifies $label as $expected', ({ input, expected }) => {
    expect(classifyStaple({ ...input, now: NOW })).toBe(expected);
  });
});
