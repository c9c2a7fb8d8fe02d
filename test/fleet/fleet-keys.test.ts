// The pure rules of fleet mode at fixed instants: which shared staple is taken, which stored backoff is believed,
// which prefixes are accepted, and how keys are named.
import { describe, expect, it } from '@jest/globals';
import { decodeBackoff, encodeBackoff, fleetChannel, fleetKeysFor, hashCertId, isValidFleetPrefix, judgeSharedStaple, SHARED_BACKOFF_MS } from '../../src/fleet/fleet-keys.js';
import { shouldHonourSharedBackoff } from '../../src/fleet/fleet-keys.js';
import type { ValidatedResponse } from '../../src/pki/types.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const HOUR_MS = 60 * 60 * 1000;

function staple(thisUpdateOffsetMs: number, lifetimeMs = 24 * HOUR_MS): ValidatedResponse {
  const thisUpdate = new Date(NOW.getTime() + thisUpdateOffsetMs);
  return { der: new Uint8Array(), certStatus: 'good', serialHex: '01', producedAt: thisUpdate, thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + lifetimeMs), signedBy: 'issuer' };
}

describe('judgeSharedStaple', () => {
  it.each([
    ['a fresh staple and nothing held', staple(-HOUR_MS), undefined, 'take'],
    ['a fresh staple newer than the one held', staple(-HOUR_MS), staple(-13 * HOUR_MS), 'take'],
    ['the very staple held, not yet due', staple(-HOUR_MS), staple(-HOUR_MS), 'take'],
    ['an older staple than the one held', staple(-2 * HOUR_MS), staple(-HOUR_MS), 'older'],
    // 24 h window: the earliest refresh point any host's jitter can pick is 45% in, 10.8 h.
    ['a staple just before its earliest refresh point', staple(-10.7 * HOUR_MS), undefined, 'take'],
    ['a staple past its earliest refresh point', staple(-10.9 * HOUR_MS), undefined, 'due'],
  ] as const)('%s: %s', (_name, shared, current, verdict) => {
    expect(judgeSharedStaple(shared, current, NOW, 5 * 60_000)).toBe(verdict);
  });
});

describe('decodeBackoff', () => {
  const inTen = NOW.getTime() + 10_000;
  it.each([
    ['what encodeBackoff wrote', encodeBackoff({ code: 'FETCH_TIMEOUT', retryAt: new Date(inTen) }), { code: 'FETCH_TIMEOUT', retryAt: new Date(inTen) }],
    ['nothing stored', undefined, undefined],
    ['not JSON', 'retry later', undefined],
    ['JSON null', 'null', undefined],
    ['an unknown code', JSON.stringify({ code: 'NOPE', retryAt: inTen }), undefined],
    ['a code that is not a responder failure', JSON.stringify({ code: 'CONFIG_INVALID', retryAt: inTen }), undefined],
    ['a retry instant in the past', JSON.stringify({ code: 'FETCH_TIMEOUT', retryAt: NOW.getTime() - 1 }), undefined],
    ['a retry instant too far away (hostile)', JSON.stringify({ code: 'FETCH_TIMEOUT', retryAt: NOW.getTime() + SHARED_BACKOFF_MS + 1 }), undefined],
    ['a retry instant that is not a number', JSON.stringify({ code: 'FETCH_TIMEOUT', retryAt: '2026' }), undefined],
  ])('%s', (_name, text, expected) => {
    expect(decodeBackoff(text, NOW)).toEqual(expected);
  });
});

describe('shouldHonourSharedBackoff', () => {
  it.each([
    [0, true],
    [1, true],
    [2, true],
    // The fourth in a row is ignored: the host asks the responder itself once.
    [3, false],
    [10, false],
  ])('after %i honoured in a row: %s', (honoured, expected) => {
    expect(shouldHonourSharedBackoff(honoured)).toBe(expected);
  });
});

describe('isValidFleetPrefix', () => {
  it.each([
    ['staplerd:', true],
    ['fleet-a/', true],
    ['x'.repeat(64), true],
    ['', false],
    ['x'.repeat(65), false],
    ['has space', false],
    ['tab\t', false],
    ['new\nline', false],
    ['é', false],
  ])('%j -> %s', (prefix, valid) => {
    expect(isValidFleetPrefix(prefix)).toBe(valid);
  });
});

describe('fleet key names', () => {
  it('puts every key and the channel under the prefix, keyed by the SHA-256 of the CertID request', () => {
    const id = hashCertId(new Uint8Array([0x30, 0x00]));
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(fleetKeysFor('p:', id)).toEqual({ staple: `p:staple:${id}`, lease: `p:lease:${id}`, backoff: `p:backoff:${id}` });
    expect(fleetChannel('p:')).toBe('p:published');
  });
});
