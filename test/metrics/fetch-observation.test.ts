// A pass tells deps.observeFetch about every OCSP attempt, which the metrics count by responder host, result and code.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { createMemoryLogger } from '../../src/log/index.js';
import { createStaplerdMetrics } from '../../src/metrics/index.js';
import { runPass, toFetchObservation } from '../../src/pass/index.js';
import { StaplerdError } from '../../src/errors/index.js';
import type { FetchObservation } from '../../src/types/index.js';
import { FakeOcspHttp, ManualClock } from '../helpers/fake-http.js';
import { createTestPki, makeTempDir, removeTempDirsAfterAll, type TestPki } from '../helpers/test-pki.js';
import { parseExposition, sampleValue } from './exposition.js';

const T0 = new Date('2031-03-01T12:00:00Z');
const GOOD_URL = 'http://ocsp.good.test/';
const BROKEN_URL = 'http://ocsp.broken.test:8080/ocsp';

let pki: TestPki;
const dirs = removeTempDirsAfterAll();

beforeAll(async () => {
  pki = await createTestPki({ now: T0 });
});

/** A fresh certs dir (no staples yet) with two leaves: one whose only URL works, one whose first URL answers 503. */
async function certsDir(): Promise<string> {
  const dir = await makeTempDir();
  dirs.push(dir);
  await pki.writeLeaf(dir, await pki.issueLeaf({ commonName: 'good.test', ocspUrls: [GOOD_URL] }), 'fullchain', 'good');
  // The broken URL first, then the good one: one certificate makes a failed and then a successful attempt.
  await pki.writeLeaf(dir, await pki.issueLeaf({ commonName: 'fallback.test', ocspUrls: [BROKEN_URL, GOOD_URL] }), 'fullchain', 'fallback');
  return dir;
}

describe('OCSP attempts observed during a pass', () => {
  it('reports each responder URL tried with its host (port included when not the default), result and code', async () => {
    const clock = new ManualClock(T0);
    const http = new FakeOcspHttp(pki.authority, clock);
    http.failWhen = (req) => (req.url.startsWith(BROKEN_URL) ? { statusCode: 503 } : undefined);
    const observations: FetchObservation[] = [];

    await runPass({
      config: { ...DEFAULT_CONFIG, certs: [await certsDir()] },
      deps: { clock, random: () => 0.5, logger: createMemoryLogger(), http, observeFetch: (o) => observations.push(o) },
    });

    const seen = observations.map((o) => [o.host, o.result, o.code ?? 'none']).sort();
    expect(seen).toEqual([
      ['ocsp.broken.test:8080', 'failure', 'FETCH_HTTP_STATUS'],
      ['ocsp.good.test', 'success', 'none'],
      ['ocsp.good.test', 'success', 'none'],
    ]);
    expect(observations.every((o) => Number.isFinite(o.latencyMs) && o.latencyMs >= 0)).toBe(true);
  });

  it('lands in staplerd_fetches_total and the latency histogram by host', async () => {
    const clock = new ManualClock(T0);
    const http = new FakeOcspHttp(pki.authority, clock);
    http.failWhen = (req) => (req.url.startsWith(BROKEN_URL) ? { statusCode: 503 } : undefined);
    const metrics = createStaplerdMetrics({ collectDefaults: false });

    await runPass({
      config: { ...DEFAULT_CONFIG, certs: [await certsDir()] },
      deps: { clock, random: () => 0.5, logger: createMemoryLogger(), http, observeFetch: (o) => metrics.observeFetch(o) },
    });

    const exposition = parseExposition((await metrics.render()).body);
    expect(sampleValue(exposition, 'staplerd_fetches_total', { host: 'ocsp.good.test', result: 'success', code: 'none' })).toBe(2);
    expect(sampleValue(exposition, 'staplerd_fetches_total', { host: 'ocsp.broken.test:8080', result: 'failure', code: 'FETCH_HTTP_STATUS' })).toBe(1);
    expect(sampleValue(exposition, 'staplerd_responder_latency_seconds_count', { host: 'ocsp.good.test' })).toBe(2);
    expect(sampleValue(exposition, 'staplerd_responder_latency_seconds_count', { host: 'ocsp.broken.test:8080' })).toBe(1);
  });
});

describe('toFetchObservation', () => {
  it.each<[string, string]>([
    ['http://ocsp.example.test/', 'ocsp.example.test'],
    ['http://ocsp.example.test:80/', 'ocsp.example.test'],
    ['https://ocsp.example.test:8443/ocsp', 'ocsp.example.test:8443'],
    ['http://[::1]:8080/', '[::1]:8080'],
    ['not a url', 'not a url'],
  ])('labels %s with host %s', (url, host) => {
    expect(toFetchObservation({ url, latencyMs: 12 }).host).toBe(host);
  });

  it('carries the error code of a failed attempt', () => {
    const error = new StaplerdError('FETCH_TIMEOUT', 'no answer');
    expect(toFetchObservation({ url: 'http://ocsp.test/', error, latencyMs: 10_000 })).toEqual({
      host: 'ocsp.test',
      result: 'failure',
      code: 'FETCH_TIMEOUT',
      latencyMs: 10_000,
    });
  });
});
