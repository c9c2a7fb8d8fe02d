// Redirects through the real got transport (finding 7 of "hostile files"): followed to http(s) only, never from a
// public responder to a local address (by literal, by name, or by a name that changes its answer), never re-sending a
// POST body to another host. Every server is on a loopback address: 127.0.0.2 and 127.0.0.3 play public hosts
// through the injected address classification, 127.0.0.1 and ::1 stay what they are.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { StaplerdError } from '../../src/errors/index.js';
import { createCaIssuerFetcher } from '../../src/ocsp/fetch-ca-issuer.js';
import { createHostLimiter } from '../../src/ocsp/host-limiter.js';
import { createHttpClient, type HttpRequest } from '../../src/ocsp/http-client.js';
import { classifyAddress } from '../../src/ocsp/redirect-policy.js';
import { respond, startLocalServer, type Handler, type LocalServer } from './local-server.js';

/** 127.0.0.2 and 127.0.0.3 stand for addresses on the internet. */
const PLAYING_PUBLIC = new Set(['127.0.0.2', '127.0.0.3']);
const classifyForTest = (address: string): ReturnType<typeof classifyAddress> => (PLAYING_PUBLIC.has(address) ? 'public' : classifyAddress(address));

/** Names the injected resolver knows; `rebind.test` answers a public address once, then loopback. */
let rebindCalls = 0;
async function resolveForTest(hostname: string): Promise<string[]> {
  if (hostname === 'admin.test') return ['127.0.0.1'];
  if (hostname === 'cdn.test') return ['127.0.0.3'];
  if (hostname === 'rebind.test') return rebindCalls++ === 0 ? ['127.0.0.3'] : ['127.0.0.1'];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
}

const client = createHttpClient({ userAgent: 'staplerd-test/1.0', classifyAddress: classifyForTest, resolveHost: resolveForTest });

/** Answers `/redirect/<status>?to=<url>` with that redirect, anything else with 200 "ok". */
const redirector: Handler = (req, res) => {
  const match = /^\/redirect\/(\d{3})\?to=(.*)$/.exec(req.path);
  if (match) {
    res.writeHead(Number(match[1]), { location: decodeURIComponent(match[2]!), 'content-length': 0 });
    res.end();
    return;
  }
  respond(res, 200, Buffer.from('ok'));
};

/** The local service an attacker would aim at: it must never see a request from a refused redirect. */
let admin: LocalServer;
let adminV6: LocalServer;
/** A responder on a "public" address. */
let publicResponder: LocalServer;
/** Another "public" host, where a CDN would send us. */
let cdn: LocalServer;
/** A responder on loopback, as in most tests and the demo. */
let localResponder: LocalServer;

beforeAll(async () => {
  admin = await startLocalServer((_req, res) => respond(res, 200, Buffer.from('admin')), '127.0.0.1');
  adminV6 = await startLocalServer((_req, res) => respond(res, 200, Buffer.from('admin')), '::1');
  publicResponder = await startLocalServer(redirector, '127.0.0.2');
  cdn = await startLocalServer(redirector, '127.0.0.3');
  localResponder = await startLocalServer(redirector, '127.0.0.1');
});

afterAll(async () => {
  client.close();
  await Promise.all([admin, adminV6, publicResponder, cdn, localResponder].map((server) => server?.close()));
});

function portOf(server: LocalServer): string {
  return new URL(server.url).port;
}

function redirectUrl(from: LocalServer, status: number, to: string): string {
  return `${from.url}/redirect/${status}?to=${encodeURIComponent(to)}`;
}

function request(method: 'GET' | 'POST', url: string): HttpRequest {
  return {
    method,
    url,
    body: method === 'POST' ? Buffer.from('ocsp-request-der') : undefined,
    headers: {},
    timeoutMs: 5000,
    maxBodyBytes: 64 * 1024,
  };
}

async function refusal(promise: Promise<unknown>): Promise<StaplerdError> {
  await expect(promise).rejects.toBeInstanceOf(StaplerdError);
  return promise.then(
    () => {
      throw new Error('resolved');
    },
    (error: StaplerdError) => error,
  );
}

describe('redirects from a public responder', () => {
  it.each<[string, () => string, string]>([
    ['127.0.0.1', () => `${admin.url}/admin`, 'a loopback'],
    ['[::1]', () => `${adminV6.url}/admin`, 'a loopback'],
    ['::ffff:127.0.0.1', () => `http://[::ffff:127.0.0.1]:${portOf(admin)}/admin`, 'a loopback'],
    ['0.0.0.0 (which reaches this host)', () => `http://0.0.0.0:${portOf(admin)}/admin`, 'an unspecified'],
    ['a name resolving to 127.0.0.1', () => `http://admin.test:${portOf(admin)}/admin`, 'a loopback'],
  ])('refuses a 302 to the local target %s with REDIRECT_REFUSED, sending it nothing', async (_name, target, scope) => {
    const seen = admin.requests.length + adminV6.requests.length;

    const error = await refusal(client.request(request('GET', redirectUrl(publicResponder, 302, target()))));

    expect(error.code).toBe('REDIRECT_REFUSED');
    expect(error.message).toContain(`from a public address to ${scope} address`);
    expect(admin.requests.length + adminV6.requests.length).toBe(seen);
  });

  it('refuses a 307 that would re-POST the OCSP request to a loopback address', async () => {
    const seen = admin.requests.length;

    const error = await refusal(client.request(request('POST', redirectUrl(publicResponder, 307, `${admin.url}/admin`))));

    expect(error.code).toBe('REDIRECT_REFUSED');
    expect(admin.requests.length).toBe(seen);
  });

  it('checks the address actually connected to: a name that resolves public first and loopback then is refused', async () => {
    rebindCalls = 0;
    const seen = admin.requests.length;

    const error = await refusal(client.request(request('GET', redirectUrl(publicResponder, 302, `http://rebind.test:${portOf(admin)}/admin`))));

    expect(error.code).toBe('REDIRECT_REFUSED');
    expect(error.message).toContain('127.0.0.1');
    expect(rebindCalls).toBe(2);
    expect(admin.requests.length).toBe(seen);
  });

  it('follows a redirect to another public host, by address and by name, as CDN-fronted responders need', async () => {
    const seen = cdn.requests.length;

    const byAddress = await client.request(request('GET', redirectUrl(publicResponder, 302, `${cdn.url}/ocsp`)));
    const byName = await client.request(request('GET', redirectUrl(publicResponder, 301, `http://cdn.test:${portOf(cdn)}/ocsp`)));

    expect([byAddress.statusCode, byName.statusCode]).toEqual([200, 200]);
    expect(cdn.requests.slice(seen).map((r) => r.path)).toEqual(['/ocsp', '/ocsp']);
  });

  it('refuses the whole chain when a later hop leads back to loopback', async () => {
    const seen = admin.requests.length;
    const secondHop = redirectUrl(cdn, 302, `${admin.url}/admin`);

    const error = await refusal(client.request(request('GET', redirectUrl(publicResponder, 302, secondHop))));

    expect(error.code).toBe('REDIRECT_REFUSED');
    expect(admin.requests.length).toBe(seen);
  });

  it('refuses an AIA caIssuers redirect to loopback the same way', async () => {
    const seen = admin.requests.length;
    const fetcher = createCaIssuerFetcher({ http: client, limiter: createHostLimiter({ perHost: 2, global: 8 }), timeoutMs: 5000, userAgent: 'staplerd-test/1.0' });

    const error = await refusal(fetcher.fetch(redirectUrl(publicResponder, 302, `${admin.url}/intermediate.der`)));

    expect(error.code).toBe('REDIRECT_REFUSED');
    expect(admin.requests.length).toBe(seen);
  });
});

describe('redirects and request bodies', () => {
  it('follows a redirect from a loopback responder to another loopback port (local test setups)', async () => {
    const seen = admin.requests.length;

    const response = await client.request(request('GET', redirectUrl(localResponder, 302, `${admin.url}/ocsp`)));

    expect(response.statusCode).toBe(200);
    expect(admin.requests.slice(seen).map((r) => r.path)).toEqual(['/ocsp']);
  });

  it.each([307, 308])('refuses a %i that would re-send the POST body to another host, even between loopback ports', async (status) => {
    const seen = admin.requests.length;

    const error = await refusal(client.request(request('POST', redirectUrl(localResponder, status, `${admin.url}/ocsp`))));

    expect(error.code).toBe('REDIRECT_REFUSED');
    expect(error.message).toContain('re-send the POST body to another host');
    expect(admin.requests.length).toBe(seen);
  });

  it('follows a 307 to another path of the same host with the POST body', async () => {
    const seen = localResponder.requests.length;

    const response = await client.request(request('POST', redirectUrl(localResponder, 307, `${localResponder.url}/moved`)));

    expect(response.statusCode).toBe(200);
    const moved = localResponder.requests.slice(seen).find((r) => r.path === '/moved');
    expect(moved).toMatchObject({ method: 'POST', body: Buffer.from('ocsp-request-der') });
  });

  it.each([301, 302, 303])('turns a POST into a GET without body on a %i to another host', async (status) => {
    const seen = admin.requests.length;

    await client.request(request('POST', redirectUrl(localResponder, status, `${admin.url}/ocsp`)));

    expect(admin.requests.slice(seen)).toEqual([expect.objectContaining({ method: 'GET', path: '/ocsp', body: Buffer.alloc(0) })]);
  });
});

/** A proxy on the path that forges the redirect itself: it answers every request with a 302 to `location`, and
 *  records the absolute-form targets it was asked for. */
async function startForgingProxy(location: () => string): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    const target = location();
    if (req.url === target) return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    res.writeHead(302, { location: target, 'content-length': 0 }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('redirects through a proxy', () => {
  it('refuses a hop from a public responder to a loopback literal, so the proxy is never asked for it', async () => {
    const proxy = await startForgingProxy(() => `${admin.url}/admin`);
    const proxied = createHttpClient({ userAgent: 'staplerd-test/1.0', proxy: proxy.url, env: {}, classifyAddress: classifyForTest, resolveHost: resolveForTest });
    try {
      const error = await refusal(proxied.request(request('GET', 'http://127.0.0.2:9/ocsp')));

      expect(error.code).toBe('REDIRECT_REFUSED');
      expect(proxy.seen).toEqual(['http://127.0.0.2:9/ocsp']);
    } finally {
      proxied.close();
      await proxy.close();
    }
  });

  it('follows a hop to a name that resolves here to a public address', async () => {
    const proxy = await startForgingProxy(() => 'http://cdn.test/ocsp');
    const proxied = createHttpClient({ userAgent: 'staplerd-test/1.0', proxy: proxy.url, env: {}, classifyAddress: classifyForTest, resolveHost: resolveForTest });
    try {
      const response = await proxied.request(request('GET', 'http://127.0.0.2:9/ocsp'));

      expect(response.statusCode).toBe(200);
      expect(proxy.seen).toEqual(['http://127.0.0.2:9/ocsp', 'http://cdn.test/ocsp']);
    } finally {
      proxied.close();
      await proxy.close();
    }
  });
});
