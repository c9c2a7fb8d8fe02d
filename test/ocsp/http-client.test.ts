// The got-based transport against real local servers: status codes, limits, timeouts, redirects, keep-alive.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createHttpClient, type HttpRequest } from '../../src/ocsp/http-client.js';
import { refusedUrl, respond, startLocalServer, type LocalServer } from './local-server.js';

const client = createHttpClient({ userAgent: 'staplerd-test/1.0' });
let server: LocalServer;

function get(url: string, overrides: Partial<HttpRequest> = {}): HttpRequest {
  return { method: 'GET', url, headers: {}, timeoutMs: 5000, maxBodyBytes: 64 * 1024, ...overrides };
}

beforeAll(async () => {
  server = await startLocalServer((req, res) => {
    const [path] = req.path.split('?');
    switch (path) {
      case '/ok':
        respond(res, 200, Buffer.from('hello'));
        return;
      case '/echo':
        respond(res, 200, req.body);
        return;
      case '/missing':
        respond(res, 404, Buffer.from('not here'), { 'retry-after': '30' });
        return;
      case '/silent':
        return; // never answers
      case '/huge-announced':
        res.writeHead(200, { 'content-length': 200_000 });
        res.end(Buffer.alloc(200_000));
        return;
      case '/huge-chunked':
        // No Content-Length and no end: only an early abort (not a timeout) can produce FETCH_TOO_LARGE.
        res.writeHead(200);
        res.write(Buffer.alloc(40_000));
        res.write(Buffer.alloc(40_000));
        return;
      case '/to-ftp':
        res.writeHead(302, { location: 'ftp://127.0.0.1/file' });
        res.end();
        return;
      default: {
        const hops = /^\/hop\/(\d+)$/.exec(path ?? '');
        if (hops) {
          const left = Number(hops[1]);
          res.writeHead(302, { location: left === 0 ? '/ok' : `/hop/${left - 1}` });
          res.end();
          return;
        }
        respond(res, 500);
      }
    }
  });
});

afterAll(async () => {
  client.close();
  await server.close();
});

describe('createHttpClient', () => {
  it('returns the body of a 200 answer', async () => {
    const response = await client.request(get(`${server.url}/ok`));
    expect(response.statusCode).toBe(200);
    expect(Buffer.from(response.body).toString()).toBe('hello');
  });

  it('returns HTTP error statuses with their headers instead of throwing', async () => {
    const response = await client.request(get(`${server.url}/missing`));
    expect(response.statusCode).toBe(404);
    expect(response.headers['retry-after']).toBe('30');
  });

  it('sends the configured User-Agent', async () => {
    await client.request(get(`${server.url}/ok?ua`));
    const seen = server.requests.find((r) => r.path === '/ok?ua');
    expect(seen?.headers['user-agent']).toBe('staplerd-test/1.0');
  });

  it('sends a POST body unchanged', async () => {
    const body = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0xff]);
    const response = await client.request({ ...get(`${server.url}/echo`), method: 'POST', body, headers: { 'content-type': 'application/ocsp-request' } });
    expect(Array.from(response.body)).toEqual(Array.from(body));
    expect(server.requests.at(-1)?.headers['content-type']).toBe('application/ocsp-request');
  });

  it('throws FETCH_TIMEOUT when the server never answers', async () => {
    await expect(client.request(get(`${server.url}/silent`, { timeoutMs: 200 }))).rejects.toMatchObject({
      code: 'FETCH_TIMEOUT',
      url: `${server.url}/silent`,
    });
  });

  it('throws FETCH_TOO_LARGE for an announced Content-Length above the limit', async () => {
    await expect(client.request(get(`${server.url}/huge-announced`, { maxBodyBytes: 1000 }))).rejects.toMatchObject({ code: 'FETCH_TOO_LARGE' });
  });

  it('aborts with FETCH_TOO_LARGE once a body without Content-Length passes the limit', async () => {
    await expect(client.request(get(`${server.url}/huge-chunked`, { maxBodyBytes: 64 * 1024, timeoutMs: 10_000 }))).rejects.toMatchObject({
      code: 'FETCH_TOO_LARGE',
    });
  });

  it.each(['ftp://127.0.0.1/ocsp', 'ldap://ldap.example/cn=ca', 'not a url'])('throws URL_UNSUPPORTED for %s', async (url) => {
    await expect(client.request(get(url))).rejects.toMatchObject({ code: 'URL_UNSUPPORTED' });
  });

  it('throws URL_UNSUPPORTED for a redirect to another scheme', async () => {
    await expect(client.request(get(`${server.url}/to-ftp`))).rejects.toMatchObject({ code: 'URL_UNSUPPORTED' });
  });

  it('follows up to three http redirects', async () => {
    const response = await client.request(get(`${server.url}/hop/2`));
    expect(response.statusCode).toBe(200);
    expect(Buffer.from(response.body).toString()).toBe('hello');
  });

  it('gives up after three redirects', async () => {
    await expect(client.request(get(`${server.url}/hop/3`))).rejects.toMatchObject({ code: 'FETCH_HTTP_STATUS' });
  });

  it('throws FETCH_NETWORK when the connection is refused', async () => {
    const url = `${await refusedUrl()}/ocsp`;
    await expect(client.request(get(url))).rejects.toMatchObject({ code: 'FETCH_NETWORK', url });
  });

  it('reuses keep-alive sockets across sequential requests', async () => {
    const own = await startLocalServer((_req, res) => respond(res, 200, Buffer.from('x')));
    try {
      for (let i = 0; i < 5; i += 1) await client.request(get(`${own.url}/ok`));
      expect(own.requests).toHaveLength(5);
      expect(own.connectionCount()).toBeLessThan(5);
    } finally {
      await own.close();
    }
  });
});
