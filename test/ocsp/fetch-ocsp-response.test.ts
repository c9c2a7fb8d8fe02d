// OCSP request transport: GET/POST choice (RFC 5019 section 5), GET->POST fallback, URL fallback, Retry-After.
import { describe, it, expect, jest, beforeAll, afterAll } from '@jest/globals';
import { StaplerdError } from '../../src/errors/index.js';
import { createHttpClient } from '../../src/ocsp/http-client.js';
import { createHostLimiter } from '../../src/ocsp/host-limiter.js';
import {
  buildOcspGetUrl,
  encodeOcspGetPath,
  fetchOcspResponse,
  parseRetryAfter,
  type OcspAttempt,
  type OcspFetchOptions,
} from '../../src/ocsp/fetch-ocsp-response.js';
import type { HttpClient, HttpRequest } from '../../src/ocsp/http-client.js';
import { refusedUrl, respond, startLocalServer, type LocalServer, type RecordedRequest } from './local-server.js';

const smallRequest = new Uint8Array(40).map((_, i) => (i * 37) & 0xff);
const largeRequest = new Uint8Array(300).map((_, i) => (i * 11) & 0xff);
const responseDer = new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x00]);

const http = createHttpClient({ userAgent: 'staplerd-test/1.0' });
const options: OcspFetchOptions = {
  http,
  limiter: createHostLimiter({ perHost: 4, global: 16 }),
  timeoutMs: 5000,
  maxBodyBytes: 64 * 1024,
  userAgent: 'staplerd-test/1.0',
};
const servers: LocalServer[] = [];

async function server(handler: (req: RecordedRequest) => { status: number; headers?: Record<string, string> }): Promise<LocalServer> {
  const started = await startLocalServer((req, res) => {
    const { status, headers } = handler(req);
    respond(res, status, status === 200 ? responseDer : Buffer.from('error'), headers);
  });
  servers.push(started);
  return started;
}

/** Decodes what the responder received, whichever method carried it. */
function receivedRequest(req: RecordedRequest): Buffer {
  if (req.method === 'POST') return req.body;
  return Buffer.from(decodeURIComponent(req.path.slice(req.path.lastIndexOf('/') + 1)), 'base64');
}

const acceptAll = async (der: Uint8Array, url: string, method: 'GET' | 'POST') => ({ der, url, method });

let healthy: LocalServer;
let postOnly404: LocalServer;
let postOnly500: LocalServer;
let unavailable: LocalServer;

beforeAll(async () => {
  healthy = await server(() => ({ status: 200 }));
  postOnly404 = await server((req) => ({ status: req.method === 'GET' ? 404 : 200 }));
  postOnly500 = await server((req) => ({ status: req.method === 'GET' ? 500 : 200 }));
  unavailable = await server(() => ({ status: 503, headers: { 'retry-after': '120' } }));
});

afterAll(async () => {
  http.close();
  await Promise.all(servers.map((s) => s.close()));
});

describe('fetchOcspResponse', () => {
  it('uses GET with the encoded request in the path for a small request', async () => {
    const result = await fetchOcspResponse([`${healthy.url}/ocsp`], smallRequest, acceptAll, options);
    expect(result.method).toBe('GET');
    expect(Array.from(result.der)).toEqual(Array.from(responseDer));
    const seen = healthy.requests.at(-1)!;
    expect(seen.method).toBe('GET');
    expect(seen.path).toBe(`/ocsp/${encodeOcspGetPath(smallRequest)}`);
    expect(receivedRequest(seen).equals(Buffer.from(smallRequest))).toBe(true);
  });

  it('uses POST with the DER body for a request too large for GET', async () => {
    expect(encodeOcspGetPath(largeRequest).length).toBeGreaterThan(255);
    const result = await fetchOcspResponse([`${healthy.url}/ocsp`], largeRequest, acceptAll, options);
    expect(result.method).toBe('POST');
    const seen = healthy.requests.at(-1)!;
    expect(seen.method).toBe('POST');
    expect(seen.path).toBe('/ocsp');
    expect(seen.headers['content-type']).toBe('application/ocsp-request');
    expect(seen.body.equals(Buffer.from(largeRequest))).toBe(true);
  });

  it('uses GET while the whole GET URL is at most 255 bytes, and POST from 256 (RFC 5019 section 5)', async () => {
    // 150 zero bytes encode to 200 "A"s: no percent-encoding, so the URL length is easy to steer with the path.
    const request = new Uint8Array(150);
    const urlWithPath = (pathLength: number): string => `${healthy.url}/${'p'.repeat(pathLength)}`;
    const fittingPath = 1 + 255 - buildOcspGetUrl(urlWithPath(1), request).length;
    expect(buildOcspGetUrl(urlWithPath(fittingPath), request).length).toBe(255);
    expect(buildOcspGetUrl(urlWithPath(fittingPath + 1), request).length).toBe(256);

    expect((await fetchOcspResponse([urlWithPath(fittingPath)], request, acceptAll, options)).method).toBe('GET');
    expect((await fetchOcspResponse([urlWithPath(fittingPath + 1)], request, acceptAll, options)).method).toBe('POST');
  });

  it('sends Accept and User-Agent headers', async () => {
    await fetchOcspResponse([healthy.url], smallRequest, acceptAll, options);
    const seen = healthy.requests.at(-1)!;
    expect(seen.headers.accept).toBe('application/ocsp-response');
    expect(seen.headers['user-agent']).toBe('staplerd-test/1.0');
  });

  it.each([
    ['404', () => postOnly404],
    ['500', () => postOnly500],
  ])('falls back to POST once when GET gets %s', async (_status, target) => {
    const before = target().requests.length;
    const result = await fetchOcspResponse([target().url], smallRequest, acceptAll, options);
    expect(result.method).toBe('POST');
    expect(target().requests.slice(before).map((r) => r.method)).toEqual(['GET', 'POST']);
  });

  it('throws FETCH_HTTP_STATUS with the Retry-After delay when GET and POST both fail', async () => {
    const before = unavailable.requests.length;
    const url = `${unavailable.url}/ocsp`;
    await expect(fetchOcspResponse([url], smallRequest, acceptAll, options)).rejects.toMatchObject({
      code: 'FETCH_HTTP_STATUS',
      url,
      retryAfterSeconds: 120,
    });
    expect(unavailable.requests.slice(before).map((r) => r.method)).toEqual(['GET', 'POST']);
  });

  it('tries the second URL when the first refuses the connection', async () => {
    const refused = await refusedUrl();
    const onAttemptFailed = jest.fn<(url: string, error: StaplerdError) => void>();
    const result = await fetchOcspResponse([refused, healthy.url], smallRequest, acceptAll, { ...options, onAttemptFailed });
    expect(result.url).toBe(healthy.url);
    expect(onAttemptFailed).toHaveBeenCalledTimes(1);
    expect(onAttemptFailed.mock.calls[0]![0]).toBe(refused);
    expect(onAttemptFailed.mock.calls[0]![1].code).toBe('FETCH_NETWORK');
  });

  it('tries the second URL when accept rejects the first body', async () => {
    const first = `${healthy.url}/first`;
    const second = `${healthy.url}/second`;
    const accept = async (der: Uint8Array, url: string) => {
      if (url === first) throw new StaplerdError('RESPONSE_MALFORMED', 'not an OCSPResponse');
      return { der, url };
    };
    const onAttemptFailed = jest.fn<(url: string, error: StaplerdError) => void>();
    const result = await fetchOcspResponse([first, second], smallRequest, accept, { ...options, onAttemptFailed });
    expect(result.url).toBe(second);
    expect(onAttemptFailed.mock.calls[0]![1]).toMatchObject({ code: 'RESPONSE_MALFORMED', url: first });
  });

  it("throws the last URL's error when every URL fails", async () => {
    const refused = await refusedUrl();
    const onAttemptFailed = jest.fn<(url: string, error: StaplerdError) => void>();
    await expect(
      fetchOcspResponse([refused, unavailable.url], smallRequest, acceptAll, { ...options, onAttemptFailed }),
    ).rejects.toMatchObject({ code: 'FETCH_HTTP_STATUS', url: unavailable.url });
    expect(onAttemptFailed.mock.calls.map(([url, error]) => [url, error.code])).toEqual([[refused, 'FETCH_NETWORK']]);
  });

  it('throws FETCH_TIMEOUT when the responder never answers', async () => {
    const silent = await startLocalServer(() => undefined);
    servers.push(silent);
    await expect(fetchOcspResponse([silent.url], smallRequest, acceptAll, { ...options, timeoutMs: 200 })).rejects.toMatchObject({
      code: 'FETCH_TIMEOUT',
      url: silent.url,
    });
  });

  it('throws URL_UNSUPPORTED for a non-http responder URL', async () => {
    await expect(fetchOcspResponse(['ldap://ocsp.example/'], smallRequest, acceptAll, options)).rejects.toMatchObject({
      code: 'URL_UNSUPPORTED',
    });
  });

  it('throws NO_OCSP_URL for an empty URL list', async () => {
    await expect(fetchOcspResponse([], smallRequest, acceptAll, options)).rejects.toMatchObject({ code: 'NO_OCSP_URL' });
  });
});

describe('fetchOcspResponse observing attempts', () => {
  /** Records every attempt as [url, code or 'success']. */
  function recorder(): { attempts: OcspAttempt[]; onAttempt: (attempt: OcspAttempt) => void } {
    const attempts: OcspAttempt[] = [];
    return { attempts, onAttempt: (attempt) => attempts.push(attempt) };
  }

  it('reports every responder URL tried, failed ones with their code and the successful one without', async () => {
    const refused = await refusedUrl();
    const { attempts, onAttempt } = recorder();
    await fetchOcspResponse([refused, healthy.url], smallRequest, acceptAll, { ...options, onAttempt });
    expect(attempts.map((a) => [a.url, a.error?.code ?? 'success'])).toEqual([
      [refused, 'FETCH_NETWORK'],
      [healthy.url, 'success'],
    ]);
  });

  it('counts an answer that fails validation as a failed attempt with the validation code', async () => {
    const { attempts, onAttempt } = recorder();
    const reject = async (): Promise<never> => {
      throw new StaplerdError('RESPONSE_UNVERIFIED', 'signature does not verify');
    };
    await expect(fetchOcspResponse([healthy.url], smallRequest, reject, { ...options, onAttempt })).rejects.toMatchObject({ code: 'RESPONSE_UNVERIFIED' });
    expect(attempts.map((a) => a.error?.code)).toEqual(['RESPONSE_UNVERIFIED']);
  });

  it('measures the time spent in HTTP requests to the URL, GET and its POST fallback together', async () => {
    // A fake transport and monotonic clock: each request "takes" 30 ms (GET 404) or 50 ms (POST 200).
    let monotonic = 1000;
    const fake: HttpClient = {
      async request(req: HttpRequest) {
        monotonic += req.method === 'GET' ? 30 : 50;
        return req.method === 'GET' ? { statusCode: 404, headers: {}, body: new Uint8Array() } : { statusCode: 200, headers: {}, body: responseDer };
      },
    };
    const { attempts, onAttempt } = recorder();
    await fetchOcspResponse(['http://ocsp.test/'], smallRequest, acceptAll, { ...options, http: fake, onAttempt, monotonicMs: () => monotonic });
    expect(attempts).toEqual([{ url: 'http://ocsp.test/', error: undefined, latencyMs: 80 }]);
  });

  it('still returns the answer when the observer throws', async () => {
    const onAttempt = (): void => {
      throw new Error('observer bug');
    };
    const result = await fetchOcspResponse([healthy.url], smallRequest, acceptAll, { ...options, onAttempt });
    expect(result.url).toBe(healthy.url);
  });
});

describe('buildOcspGetUrl', () => {
  const der = new Uint8Array([0xfb, 0xff]); // base64 "+/8=": every character that needs percent-encoding
  it.each([
    ['http://ocsp.example.com', 'http://ocsp.example.com/%2B%2F8%3D'],
    ['http://ocsp.example.com/', 'http://ocsp.example.com/%2B%2F8%3D'],
    ['http://ocsp.example.com/ocsp', 'http://ocsp.example.com/ocsp/%2B%2F8%3D'],
    ['http://ocsp.example.com/ocsp/', 'http://ocsp.example.com/ocsp/%2B%2F8%3D'],
  ])('appends the encoded request to %s', (base, expected) => {
    expect(buildOcspGetUrl(base, der)).toBe(expected);
  });

  it('percent-encodes standard base64', () => {
    expect(encodeOcspGetPath(der)).toBe('%2B%2F8%3D');
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2025-03-01T12:00:00Z');
  it.each<[string | undefined, number | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['120', 120],
    [' 0 ', 0],
    ['Sat, 01 Mar 2025 12:01:30 GMT', 90],
    ['Saturday, 01-Mar-25 12:00:10 GMT', 10],
    ['Sat Mar  1 12:00:05 2025', 5],
    ['Sat, 01 Mar 2025 11:00:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
  ])('parses %p as %p seconds', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});
