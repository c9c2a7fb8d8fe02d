// AIA caIssuers downloads: raw bytes, one request per URL thanks to the cache, failures not cached.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createHttpClient } from '../../src/ocsp/http-client.js';
import { createHostLimiter } from '../../src/ocsp/host-limiter.js';
import { createCaIssuerFetcher, type CaIssuerFetchOptions } from '../../src/ocsp/fetch-ca-issuer.js';
import { respond, startLocalServer, type LocalServer } from './local-server.js';

const certificateDer = Buffer.from([0x30, 0x82, 0x00, 0x02, 0x05, 0x00]);
const http = createHttpClient({ userAgent: 'staplerd-test/1.0' });
let server: LocalServer;
let flakyCalls = 0;

function fetcherOptions(overrides: Partial<CaIssuerFetchOptions> = {}): CaIssuerFetchOptions {
  return {
    http,
    limiter: createHostLimiter({ perHost: 2, global: 8 }),
    timeoutMs: 5000,
    maxBodyBytes: 64 * 1024,
    userAgent: 'staplerd-test/1.0',
    now: () => new Date('2025-03-01T12:00:00Z'),
    ...overrides,
  };
}

function requestsTo(path: string): number {
  return server.requests.filter((r) => r.path === path).length;
}

beforeAll(async () => {
  server = await startLocalServer((req, res) => {
    if (req.path === '/flaky.cer') {
      flakyCalls += 1;
      if (flakyCalls === 1) return respond(res, 503, Buffer.from('busy'), { 'retry-after': 'Sat, 01 Mar 2025 12:01:00 GMT' });
    }
    if (req.path === '/missing.cer') return respond(res, 404);
    respond(res, 200, certificateDer, { 'content-type': 'application/pkix-cert' });
  });
});

afterAll(async () => {
  http.close();
  await server.close();
});

describe('createCaIssuerFetcher', () => {
  it('returns the raw body bytes', async () => {
    const fetcher = createCaIssuerFetcher(fetcherOptions());
    const body = await fetcher.fetch(`${server.url}/raw.cer`);
    expect(Buffer.from(body).equals(certificateDer)).toBe(true);
  });

  it('makes one request for two fetches of the same URL', async () => {
    const fetcher = createCaIssuerFetcher(fetcherOptions());
    const url = `${server.url}/intermediate.cer`;
    const first = await fetcher.fetch(url);
    const second = await fetcher.fetch(url);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    expect(requestsTo('/intermediate.cer')).toBe(1);
  });

  it('shares one request between concurrent fetches of the same URL', async () => {
    const fetcher = createCaIssuerFetcher(fetcherOptions());
    const url = `${server.url}/concurrent.cer`;
    await Promise.all([fetcher.fetch(url), fetcher.fetch(url), fetcher.fetch(url)]);
    expect(requestsTo('/concurrent.cer')).toBe(1);
  });

  it('does not cache a failure', async () => {
    const fetcher = createCaIssuerFetcher(fetcherOptions());
    const url = `${server.url}/flaky.cer`;
    await expect(fetcher.fetch(url)).rejects.toMatchObject({ code: 'FETCH_HTTP_STATUS', url, retryAfterSeconds: 60 });
    await expect(fetcher.fetch(url)).resolves.toHaveLength(certificateDer.length);
    expect(requestsTo('/flaky.cer')).toBe(2);
  });

  it('throws FETCH_HTTP_STATUS for a 404', async () => {
    const fetcher = createCaIssuerFetcher(fetcherOptions());
    await expect(fetcher.fetch(`${server.url}/missing.cer`)).rejects.toMatchObject({ code: 'FETCH_HTTP_STATUS' });
  });

  it('evicts the oldest entry beyond maxCacheEntries', async () => {
    const fetcher = createCaIssuerFetcher(fetcherOptions({ maxCacheEntries: 1 }));
    await fetcher.fetch(`${server.url}/evict-a.cer`);
    await fetcher.fetch(`${server.url}/evict-b.cer`);
    await fetcher.fetch(`${server.url}/evict-a.cer`);
    expect(requestsTo('/evict-a.cer')).toBe(2);
    expect(requestsTo('/evict-b.cer')).toBe(1);
  });

  it('throws URL_UNSUPPORTED for an ldap caIssuers URL', async () => {
    const fetcher = createCaIssuerFetcher(fetcherOptions());
    await expect(fetcher.fetch('ldap://ldap.example/cn=CA?cACertificate')).rejects.toMatchObject({ code: 'URL_UNSUPPORTED' });
  });
});
