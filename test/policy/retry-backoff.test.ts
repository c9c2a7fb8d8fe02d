// Retry timing at fixed instants: exponential growth, jitter, cap, Retry-After and the staple-expiry clamp.
import { describe, it, expect } from '@jest/globals';
import { ERROR_CODES, type ErrorCode } from '../../src/errors/index.js';
import { computeNextAttempt, decideNextAttempt, decideRetryAfterFailedPass, isAwaitingInputChange } from '../../src/policy/index.js';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const NOW = new Date('2025-03-01T12:00:00.000Z');
const at = (offsetMs: number): Date => new Date(NOW.getTime() + offsetMs);
const constant = (value: number) => (): number => value;
const delayMsOf = (attempt: Date): number => attempt.getTime() - NOW.getTime();

describe('computeNextAttempt', () => {
  // Un-jittered backoff: 60 s doubling, capped at 1 h from the 7th failure (60 * 2^6 = 3840 s > 3600 s).
  const backoffSeconds = [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600];

  it.each(backoffSeconds.map((seconds, index) => ({ failures: index + 1, seconds })))(
    'waits half the backoff at the low end of the jitter ($failures failures -> $seconds s backoff)',
    ({ failures, seconds }) => {
      const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: failures, random: constant(0) });
      expect(delayMsOf(attempt)).toBe((seconds * SECOND_MS) / 2);
    },
  );

  it.each(backoffSeconds.map((seconds, index) => ({ failures: index + 1, seconds })))(
    'waits three quarters of the backoff at mid jitter ($failures failures)',
    ({ failures, seconds }) => {
      const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: failures, random: constant(0.5) });
      expect(delayMsOf(attempt)).toBe((seconds * SECOND_MS * 3) / 4);
    },
  );

  it('stays just under the full backoff at the high end of the jitter', () => {
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 3, random: constant(0.999) });
    expect(delayMsOf(attempt)).toBeGreaterThan(239 * SECOND_MS);
    expect(delayMsOf(attempt)).toBeLessThanOrEqual(240 * SECOND_MS);
  });

  it('never exceeds the 1 h cap, even after thousands of failures', () => {
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 5000, random: constant(0.999999) });
    expect(delayMsOf(attempt)).toBeLessThanOrEqual(HOUR_MS);
    expect(delayMsOf(attempt)).toBeGreaterThan(0.99 * HOUR_MS);
  });

  it('treats a failure count below 1 as the first failure', () => {
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 0, random: constant(0) });
    expect(delayMsOf(attempt)).toBe(30 * SECOND_MS);
  });

  it('uses custom base and cap', () => {
    const input = { now: NOW, random: constant(0), baseDelayMs: 10 * SECOND_MS, maxDelayMs: 50 * SECOND_MS };
    expect(delayMsOf(computeNextAttempt({ ...input, consecutiveFailures: 2 }))).toBe(10 * SECOND_MS);
    expect(delayMsOf(computeNextAttempt({ ...input, consecutiveFailures: 4 }))).toBe(25 * SECOND_MS);
  });

  it('waits for Retry-After when it is longer than the backoff', () => {
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 1, retryAfterSeconds: 600, random: constant(0.5) });
    expect(attempt).toEqual(at(600 * SECOND_MS));
  });

  it('keeps the backoff when Retry-After is shorter', () => {
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 5, retryAfterSeconds: 10, random: constant(0) });
    expect(delayMsOf(attempt)).toBe(480 * SECOND_MS);
  });

  it('caps Retry-After at 6 h so a hostile responder cannot silence the daemon', () => {
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 1, retryAfterSeconds: 30 * 24 * 3600, random: constant(0) });
    expect(attempt).toEqual(at(6 * HOUR_MS));
  });

  it.each([-5, Number.NaN, Number.POSITIVE_INFINITY])('ignores a nonsensical Retry-After of %p', (retryAfterSeconds) => {
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 1, retryAfterSeconds, random: constant(0) });
    expect(delayMsOf(attempt)).toBe(30 * SECOND_MS);
  });

  it('retries no later than the moment the current staple becomes unusable', () => {
    const stapleUsableUntil = at(10 * MINUTE_MS);
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 10, stapleUsableUntil, random: constant(0.5) });
    expect(attempt).toEqual(stapleUsableUntil);
  });

  it('lets the staple-expiry clamp override a long Retry-After', () => {
    const stapleUsableUntil = at(20 * MINUTE_MS);
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 1, retryAfterSeconds: 3 * 3600, stapleUsableUntil, random: constant(0) });
    expect(attempt).toEqual(stapleUsableUntil);
  });

  it('keeps an earlier backoff when the staple stays usable for longer', () => {
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 1, stapleUsableUntil: at(HOUR_MS), random: constant(0) });
    expect(delayMsOf(attempt)).toBe(30 * SECOND_MS);
  });

  it.each([
    { label: 'already unusable', stapleUsableUntil: at(-MINUTE_MS) },
    { label: 'unusable right now', stapleUsableUntil: NOW },
  ])('ignores the clamp when the staple is $label', ({ stapleUsableUntil }) => {
    const attempt = computeNextAttempt({ now: NOW, consecutiveFailures: 10, stapleUsableUntil, random: constant(0) });
    expect(delayMsOf(attempt)).toBe(30 * MINUTE_MS);
  });
});

// `run` after a whole pass failed: was a fixed 60 s whatever the code; now the code's retry column and a growing backoff.
describe('decideRetryAfterFailedPass', () => {
  it.each([
    { code: 'INTERNAL', failed: 1, random: 0, after: 30 * SECOND_MS },
    { code: 'INTERNAL', failed: 1, random: 0.5, after: 45 * SECOND_MS },
    { code: 'STATE_WRITE_FAILED', failed: 2, random: 0, after: MINUTE_MS },
    { code: 'FETCH_NETWORK', failed: 4, random: 0.5, after: 6 * MINUTE_MS },
    { code: 'INTERNAL', failed: 7, random: 0, after: 30 * MINUTE_MS },
    { code: 'INTERNAL', failed: 50, random: 0.5, after: 45 * MINUTE_MS },
  ] as const)('retries $code after $failed failed passes in a row at NOW + $after ms (jitter $random)', ({ code, failed, random, after }) => {
    expect(decideRetryAfterFailedPass({ now: NOW, code, consecutiveFailedPasses: failed, random: constant(random) })).toEqual(at(after));
  });

  it.each(['CONFIG_INVALID', 'CERT_UNREADABLE', 'DIRECTORY_UNREADABLE', 'FILE_NOT_REGULAR'] as const)(
    'sets no retry for %s: a timer cannot fix a configuration or permission',
    (code) => {
      expect(decideRetryAfterFailedPass({ now: NOW, code, consecutiveFailedPasses: 1, random: constant(0) })).toBeUndefined();
    },
  );
});

// The retry column of ERROR_CODES decides, for every code, whether time can help (docs/cli.md "Error codes").
describe('decideNextAttempt', () => {
  const codes = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => ({ code, retry: ERROR_CODES[code].retry }));

  it.each(codes.filter((c) => c.retry))('puts $code on the time-based backoff (retried: yes)', ({ code }) => {
    const attempt = decideNextAttempt({ code, now: NOW, consecutiveFailures: 2, random: constant(0) });
    expect(attempt).toEqual(at(MINUTE_MS));
  });

  it.each(codes.filter((c) => !c.retry))('gives $code no retry instant: it waits for the input to change (retried: no)', ({ code }) => {
    const attempt = decideNextAttempt({ code, now: NOW, consecutiveFailures: 2, retryAfterSeconds: 60, random: constant(0) });
    expect(attempt).toBeUndefined();
  });

  it('covers both kinds of code, so neither list above is empty', () => {
    expect(codes.some((c) => c.retry) && codes.some((c) => !c.retry)).toBe(true);
  });
});

describe('isAwaitingInputChange', () => {
  const urls = 'http://ocsp.example.test';

  it('waits after a retry: false failure while the input is the same', () => {
    expect(isAwaitingInputChange({ consecutiveFailures: 1, lastErrorCode: 'URL_UNSUPPORTED', failedInput: 'ftp://x', currentInput: 'ftp://x' })).toBe(true);
  });

  it('stops waiting once the input has changed', () => {
    expect(isAwaitingInputChange({ consecutiveFailures: 1, lastErrorCode: 'URL_UNSUPPORTED', failedInput: 'ftp://x', currentInput: urls })).toBe(false);
  });

  it('never waits after a retryable failure (the backoff decides)', () => {
    expect(isAwaitingInputChange({ consecutiveFailures: 3, lastErrorCode: 'FETCH_NETWORK', failedInput: urls, currentInput: urls })).toBe(false);
  });

  it('never waits once the failure streak has ended', () => {
    expect(isAwaitingInputChange({ consecutiveFailures: 0, lastErrorCode: 'URL_UNSUPPORTED', failedInput: urls, currentInput: urls })).toBe(false);
  });
});
