// FleetCoordinator against an in-memory Redis: shared hits, one fetch for many hosts, rejected values, shared backoff,
// and carrying on alone when Redis fails. Validation is a stand-in here; the real one runs in test/e2e/fleet.test.ts.
import { describe, expect, it } from '@jest/globals';
import { StaplerdError } from '../../src/errors/index.js';
import { FleetCoordinator, type FleetRequest } from '../../src/fleet/index.js';
import { encodeBackoff, fleetKeysFor, hashCertId } from '../../src/fleet/fleet-keys.js';
import { createMemoryLogger } from '../../src/log/index.js';
import type { ValidatedResponse } from '../../src/pki/types.js';
import { systemClock } from '../../src/types/index.js';
import { FakeFleetRedis } from './fake-fleet-redis.js';

const HOUR_MS = 60 * 60 * 1000;
const CERT_ID = new Uint8Array([1, 2, 3]);
const KEYS = fleetKeysFor('staplerd:', hashCertId(CERT_ID));

/** A stand-in response whose DER names its thisUpdate: "good:<ms>"; anything else fails validation. */
function response(thisUpdateMs: number, lifetimeMs = 2 * HOUR_MS): ValidatedResponse {
  return {
    der: new TextEncoder().encode(`good:${thisUpdateMs}:${lifetimeMs}`),
    certStatus: 'good',
    serialHex: '01',
    producedAt: new Date(thisUpdateMs),
    thisUpdate: new Date(thisUpdateMs),
    nextUpdate: new Date(thisUpdateMs + lifetimeMs),
    signedBy: 'issuer',
  };
}

async function validateStandIn(der: Uint8Array): Promise<ValidatedResponse> {
  const match = /^good:(\d+):(\d+)$/.exec(new TextDecoder().decode(der));
  if (!match) throw new StaplerdError('RESPONSE_MALFORMED', 'not a response');
  return response(Number(match[1]), Number(match[2]));
}

function coordinator(redis: FakeFleetRedis, leaseMs = 2_000) {
  const logger = createMemoryLogger();
  const fleet = new FleetCoordinator({
    prefix: 'staplerd:',
    clock: systemClock,
    logger,
    connect: async () => redis,
    timing: { leaseMs, pollMs: 20, retryAfterErrorMs: 60_000 },
    maxValueBytes: 1024,
    connectWaitMs: 100,
  });
  return { fleet, logger };
}

function request(fetch: () => Promise<ValidatedResponse>, current?: ValidatedResponse): FleetRequest {
  return { certIdRequestDer: CERT_ID, current, minRemainingMs: 0, validateShared: validateStandIn, fetch, logFields: { file: 'leaf.pem' } };
}

function countingFetch(result: () => ValidatedResponse, delayMs = 0): { fetch: () => Promise<ValidatedResponse>; calls: () => number } {
  let calls = 0;
  return {
    fetch: async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return result();
    },
    calls: () => calls,
  };
}

describe('FleetCoordinator', () => {
  it('takes a valid shared staple that is not due, without fetching', async () => {
    const redis = new FakeFleetRedis();
    const shared = response(Date.now() - 60_000);
    await redis.publishStaple(KEYS.staple, shared.der, shared.thisUpdate.getTime(), shared.nextUpdate.getTime(), false);
    const { fleet } = coordinator(redis);
    const fetch = countingFetch(() => response(Date.now()));
    const result = await fleet.obtain(request(fetch.fetch));
    expect(result.source).toBe('fleet');
    expect(result.response.der).toEqual(shared.der);
    expect(fetch.calls()).toBe(0);
    expect(fleet.health()).toMatchObject({ connected: true, sharedHits: 1, leasesWon: 0 });
  });

  it('fetches once for several hosts at once: one holder publishes, the others take its staple', async () => {
    const redis = new FakeFleetRedis();
    const hosts = [coordinator(redis), coordinator(redis), coordinator(redis)];
    const fetched = response(Date.now());
    const fetch = countingFetch(() => fetched, 50);
    const results = await Promise.all(hosts.map(({ fleet }) => fleet.obtain(request(fetch.fetch))));
    expect(fetch.calls()).toBe(1);
    expect(results.map((r) => r.source).sort()).toEqual(['fetched', 'fleet', 'fleet']);
    for (const result of results) expect(result.response.der).toEqual(fetched.der);
    // The holder handed its lease back and announced the key.
    expect(redis.entries.has(KEYS.lease)).toBe(false);
    expect(redis.published).toEqual([{ channel: 'staplerd:published', message: KEYS.staple }]);
  });

  it('rejects garbage in Redis, counts and logs it, fetches itself and replaces the value', async () => {
    const redis = new FakeFleetRedis();
    await redis.publishStaple(KEYS.staple, new TextEncoder().encode('garbage'), Number.MAX_SAFE_INTEGER, Date.now() + HOUR_MS, false);
    const { fleet, logger } = coordinator(redis);
    const fetched = response(Date.now());
    const result = await fleet.obtain(request(countingFetch(() => fetched).fetch));
    expect(result.source).toBe('fetched');
    expect(fleet.health().rejected.invalid).toBe(1);
    expect(logger.events.find((e) => e.event === 'fleet.value_rejected')?.fields).toMatchObject({ code: 'FLEET_VALUE_REJECTED', reason: 'invalid', validationCode: 'RESPONSE_MALFORMED' });
    // Replaced although the garbage claimed a later thisUpdate: the holder found it invalid.
    expect(await redis.readStaple(KEYS.staple, 1024)).toEqual({ kind: 'value', der: fetched.der });
  });

  it('rejects a shared staple older than the one this host holds', async () => {
    const redis = new FakeFleetRedis();
    const older = response(Date.now() - 30 * 60_000);
    await redis.publishStaple(KEYS.staple, older.der, older.thisUpdate.getTime(), older.nextUpdate.getTime(), false);
    const { fleet } = coordinator(redis);
    const fetch = countingFetch(() => response(Date.now()));
    const result = await fleet.obtain(request(fetch.fetch, response(Date.now() - 10 * 60_000)));
    expect(result.source).toBe('fetched');
    expect(fleet.health().rejected.older).toBe(1);
  });

  it('does not take a shared staple that is itself due for refresh, and counts no rejection', async () => {
    const redis = new FakeFleetRedis();
    // 2 h window, 80 minutes old: past the earliest refresh point (45% of the window).
    const due = response(Date.now() - 80 * 60_000);
    await redis.publishStaple(KEYS.staple, due.der, due.thisUpdate.getTime(), due.nextUpdate.getTime(), false);
    const { fleet } = coordinator(redis);
    const fetch = countingFetch(() => response(Date.now()));
    expect((await fleet.obtain(request(fetch.fetch))).source).toBe('fetched');
    expect(fetch.calls()).toBe(1);
    expect(fleet.health().rejected).toEqual({ invalid: 0, older: 0, 'wrong-type': 0, 'too-large': 0 });
  });

  it('shares a responder failure: the next host gets the same code without asking the responder', async () => {
    const redis = new FakeFleetRedis();
    const first = coordinator(redis);
    await expect(first.fleet.obtain(request(async () => Promise.reject(new StaplerdError('FETCH_TIMEOUT', 'no answer'))))).rejects.toMatchObject({ code: 'FETCH_TIMEOUT' });
    const second = coordinator(redis);
    const fetch = countingFetch(() => response(Date.now()));
    await expect(second.fleet.obtain(request(fetch.fetch))).rejects.toMatchObject({ code: 'FETCH_TIMEOUT' });
    expect(fetch.calls()).toBe(0);
  });

  it('asks the responder itself after honouring three shared backoffs in a row, so a forged backoff cannot keep it away', async () => {
    const redis = new FakeFleetRedis();
    const { fleet } = coordinator(redis);
    const fetch = countingFetch(() => response(Date.now()));
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      // A hostile writer renews the backoff before every attempt, each time within the 60 s a backoff may last.
      await redis.writeText(KEYS.backoff, encodeBackoff({ code: 'FETCH_TIMEOUT', retryAt: new Date(Date.now() + 30_000) }), 60_000);
      outcomes.push(await fleet.obtain(request(fetch.fetch)).then((result) => result.source, (error: StaplerdError) => error.code));
    }
    expect(outcomes).toEqual(['FETCH_TIMEOUT', 'FETCH_TIMEOUT', 'FETCH_TIMEOUT', 'fetched']);
    expect(fetch.calls()).toBe(1);
  });

  it('takes over a lease whose holder died once it expires', async () => {
    const redis = new FakeFleetRedis();
    await redis.takeLease(KEYS.lease, 'dead-host', 150);
    const { fleet } = coordinator(redis, 150);
    const fetch = countingFetch(() => response(Date.now()));
    const result = await fleet.obtain(request(fetch.fetch));
    expect(result.source).toBe('fetched');
    expect(fetch.calls()).toBe(1);
    expect(fleet.health().leasesWon).toBe(1);
  });

  it('carries on alone when Redis fails, with one warning per outage', async () => {
    const redis = new FakeFleetRedis();
    const { fleet, logger } = coordinator(redis);
    redis.failure = new Error('connection refused');
    const fetch = countingFetch(() => response(Date.now()));
    expect((await fleet.obtain(request(fetch.fetch))).source).toBe('fetched');
    expect((await fleet.obtain(request(fetch.fetch))).source).toBe('fetched');
    expect(fetch.calls()).toBe(2);
    expect(logger.events.filter((e) => e.event === 'fleet.unavailable').map((e) => e.fields.code)).toEqual(['FLEET_UNAVAILABLE']);
    expect(fleet.health()).toMatchObject({ connected: false, errors: 1 });
  });

  it('lets a fetch failure through unchanged when Redis is down (the pass records it as without --fleet)', async () => {
    const redis = new FakeFleetRedis();
    redis.failure = new Error('down');
    const { fleet } = coordinator(redis);
    await expect(fleet.obtain(request(async () => Promise.reject(new StaplerdError('FETCH_NETWORK', 'unreachable'))))).rejects.toMatchObject({ code: 'FETCH_NETWORK' });
  });
});

describe('FleetCoordinator under a lease', () => {
  it('reads again after winning the lease: a value published just before is taken, not fetched again', async () => {
    const redis = new FakeFleetRedis();
    const published = response(Date.now());
    // The holder publishes and releases between this host's first read and its SET NX.
    const takeLease = redis.takeLease.bind(redis);
    redis.takeLease = async (key, token, ttlMs) => {
      await redis.publishStaple(KEYS.staple, published.der, published.thisUpdate.getTime(), published.nextUpdate.getTime(), false);
      return takeLease(key, token, ttlMs);
    };
    const { fleet } = coordinator(redis);
    const fetch = countingFetch(() => response(Date.now()));
    const result = await fleet.obtain(request(fetch.fetch));
    expect(result).toMatchObject({ source: 'fleet' });
    expect(fetch.calls()).toBe(0);
    expect(redis.entries.has(KEYS.lease)).toBe(false);
  });
});

describe('FleetCoordinator health', () => {
  it('connects when asked for its checked health, so a host with only fresh staples is not reported disconnected', async () => {
    const { fleet } = coordinator(new FakeFleetRedis());
    expect(fleet.health().connected).toBe(false);
    expect((await fleet.checkedHealth()).connected).toBe(true);
  });

  it('reports a Redis that does not answer as not connected, with one error', async () => {
    const redis = new FakeFleetRedis();
    redis.failure = new Error('refused');
    const { fleet } = coordinator(redis);
    expect(await fleet.checkedHealth()).toMatchObject({ connected: false, errors: 1 });
  });

  it('logs why the connection failed (a TLS certificate that does not verify), not just "not connected"', async () => {
    const redis = new FakeFleetRedis();
    redis.failure = new Error('unable to get local issuer certificate');
    const { fleet, logger } = coordinator(redis);
    await fleet.checkedHealth();
    const logged = logger.events.find((e) => e.event === 'fleet.unavailable');
    expect(logged?.message).toMatch(/unable to get local issuer certificate/);
  });
});
