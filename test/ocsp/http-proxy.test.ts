// Outbound proxy support: which proxy each URL gets (config, HTTP(S)_PROXY, NO_PROXY) and real requests through a
// local forward proxy (absolute-form for http:, CONNECT for https:), all on 127.0.0.1.
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { createHttpClient, type ClosableHttpClient, type HttpClientOptions, type HttpRequest } from '../../src/ocsp/http-client.js';
import { parseNoProxy, parseProxyUrl, readProxySettings, selectProxy, isExcludedByNoProxy } from '../../src/ocsp/proxy-agents.js';
import { createHostLimiter } from '../../src/ocsp/host-limiter.js';
import { createCaIssuerFetcher } from '../../src/ocsp/fetch-ca-issuer.js';
import { exportPrivateKeyPem } from '../../src/demo/key-pair.js';
import { createTestPki } from '../helpers/test-pki.js';
import { refusedUrl, respond, startLocalServer, type LocalServer } from './local-server.js';

// ---------------------------------------------------------------------------------------------------------------
// A tiny forward proxy: absolute-form GET/POST are forwarded to the target, CONNECT opens a raw TCP tunnel.

type ProxyMode = 'forward' | 'require-auth' | 'answer-502' | 'refuse-connect-407';

interface SeenByProxy {
  method: string;
  target: string;
  proxyAuthorization?: string;
  host?: string;
}

interface TestProxy {
  url: string;
  seen: SeenByProxy[];
  mode: ProxyMode;
  connectionCount(): number;
  close(): Promise<void>;
}

const EXPECTED_AUTHORIZATION = `Basic ${Buffer.from('ops:s3cret pass').toString('base64')}`;

/** The test certificate is for "localhost"; the tunnel always dials 127.0.0.1 so no IPv6 resolution is involved. */
function dialTarget(hostname: string): string {
  return hostname === 'localhost' ? '127.0.0.1' : hostname;
}

async function startTestProxy(): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const proxy: TestProxy = { url: '', seen: [], mode: 'forward', connectionCount: () => connections, close: async () => undefined };
  const server = http.createServer((req, res) => {
    proxy.seen.push({ method: req.method ?? '', target: req.url ?? '', proxyAuthorization: req.headers['proxy-authorization'], host: req.headers.host });
    if (proxy.mode === 'require-auth' && req.headers['proxy-authorization'] !== EXPECTED_AUTHORIZATION) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-length': 0 });
      res.end();
      return;
    }
    if (proxy.mode === 'answer-502') {
      res.writeHead(502, { 'content-length': 0 });
      res.end();
      return;
    }
    forwardAbsoluteForm(req, res);
  });
  server.on('connect', (req: http.IncomingMessage, clientSocket: net.Socket) => {
    proxy.seen.push({ method: 'CONNECT', target: req.url ?? '', proxyAuthorization: req.headers['proxy-authorization'] });
    if (proxy.mode === 'refuse-connect-407') {
      clientSocket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [hostname, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), dialTarget(hostname ?? ''), () => {
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => clientSocket.destroy());
    clientSocket.on('error', () => upstream.destroy());
  });
  server.on('connection', (socket: net.Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return proxy;
}

/** Only absolute-form is accepted, as Squid does for a non-intercepting port: an origin-form path is a client bug. */
function forwardAbsoluteForm(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (!/^http:\/\//.test(req.url ?? '')) {
    res.writeHead(400, { 'content-length': 0 });
    res.end();
    return;
  }
  const target = new URL(req.url!);
  const headers = { ...req.headers };
  delete headers['proxy-authorization'];
  delete headers['proxy-connection'];
  const upstream = http.request(
    { host: dialTarget(target.hostname), port: target.port, method: req.method, path: `${target.pathname}${target.search}`, headers, agent: false },
    (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    },
  );
  upstream.on('error', () => {
    res.writeHead(502, { 'content-length': 0 });
    res.end();
  });
  req.pipe(upstream);
}

// ---------------------------------------------------------------------------------------------------------------

function get(url: string, overrides: Partial<HttpRequest> = {}): HttpRequest {
  return { method: 'GET', url, headers: {}, timeoutMs: 5000, maxBodyBytes: 64 * 1024, ...overrides };
}

function urlWithCredentials(proxyUrl: string, user: string, password: string): string {
  const url = new URL(proxyUrl);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}

const clients: ClosableHttpClient[] = [];
function client(options: Omit<HttpClientOptions, 'userAgent'>): ClosableHttpClient {
  const created = createHttpClient({ userAgent: 'staplerd-test/1.0', ...options });
  clients.push(created);
  return created;
}

let target: LocalServer;
let proxy: TestProxy;
let otherProxy: TestProxy;
let deadProxyUrl: string;

beforeAll(async () => {
  target = await startLocalServer((req, res) => {
    if (req.path === '/echo') return respond(res, 200, req.body);
    if (req.path.startsWith('/redirect-to/')) {
      res.writeHead(302, { location: decodeURIComponent(req.path.slice('/redirect-to/'.length)), 'content-length': 0 });
      res.end();
      return;
    }
    respond(res, 200, Buffer.from(`hello ${req.path}`));
  });
  proxy = await startTestProxy();
  otherProxy = await startTestProxy();
  deadProxyUrl = await refusedUrl();
});

afterEach(() => {
  for (const created of clients.splice(0)) created.close();
  proxy.mode = 'forward';
});

afterAll(async () => {
  await Promise.all([target.close(), proxy.close(), otherProxy.close()]);
});

function targetRequestsTo(path: string): number {
  return target.requests.filter((r) => r.path === path).length;
}

// ---------------------------------------------------------------------------------------------------------------

describe('selectProxy', () => {
  const select = (url: string, env: NodeJS.ProcessEnv, proxy?: string): string | undefined =>
    selectProxy(new URL(url), readProxySettings({ proxy, env }))?.href;

  it('uses HTTP_PROXY for http URLs and HTTPS_PROXY for https URLs', () => {
    const env = { HTTP_PROXY: 'http://plain.proxy:3128', HTTPS_PROXY: 'http://tls.proxy:3129' };
    expect(select('http://ocsp.example.com/', env)).toBe('http://plain.proxy:3128/');
    expect(select('https://ocsp.example.com/', env)).toBe('http://tls.proxy:3129/');
  });

  it('leaves https URLs direct when only HTTP_PROXY is set', () => {
    expect(select('https://ocsp.example.com/', { HTTP_PROXY: 'http://plain.proxy:3128' })).toBeUndefined();
  });

  it('prefers the lowercase variable and treats an empty one as unset', () => {
    expect(select('http://a.example/', { http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:2' })).toBe('http://lower:1/');
    expect(select('http://a.example/', { http_proxy: '', HTTP_PROXY: 'http://upper:2' })).toBe('http://upper:2/');
  });

  it('lets the explicit proxy override the environment for both schemes', () => {
    const env = { HTTP_PROXY: 'http://env:1', HTTPS_PROXY: 'http://env:2' };
    expect(select('http://a.example/', env, 'http://configured:8080')).toBe('http://configured:8080/');
    expect(select('https://a.example/', env, 'http://configured:8080')).toBe('http://configured:8080/');
  });

  it('still honours NO_PROXY for the explicit proxy', () => {
    expect(select('http://ocsp.internal/', { NO_PROXY: '.internal' }, 'http://configured:8080')).toBeUndefined();
  });

  it('defaults a proxy given as host:port to http://', () => {
    expect(select('http://a.example/', { HTTP_PROXY: 'proxy.corp:3128' })).toBe('http://proxy.corp:3128/');
  });
});

describe('NO_PROXY matching', () => {
  const excluded = (url: string, noProxy: string): boolean => isExcludedByNoProxy(new URL(url), parseNoProxy(noProxy));

  it.each([
    ['an exact host', 'http://ocsp.example.com/', 'ocsp.example.com', true],
    ['a parent domain (host and subdomains, as curl)', 'http://ocsp.example.com/', 'example.com', true],
    ['a leading dot', 'http://ocsp.example.com/', '.example.com', true],
    ['a leading dot, the domain itself', 'http://example.com/', '.example.com', true],
    ['a leading *.', 'http://ocsp.example.com/', '*.example.com', true],
    ['a name that only shares a suffix', 'http://badexample.com/', 'example.com', false],
    ['another host', 'http://ocsp.example.org/', 'example.com', false],
    ['* alone', 'http://anything.example/', '*', true],
    ['a matching port', 'http://ocsp.example.com:8080/', 'ocsp.example.com:8080', true],
    ['the default port of the scheme', 'http://ocsp.example.com/', 'ocsp.example.com:80', true],
    ['a different port', 'http://ocsp.example.com/', 'ocsp.example.com:8080', false],
    ['an IPv4 address', 'http://127.0.0.1:9000/', '127.0.0.1', true],
    ['a CIDR range', 'http://10.1.2.3/', '10.0.0.0/8', true],
    ['an address outside the range', 'http://11.1.2.3/', '10.0.0.0/8', false],
    ['an IPv6 address in brackets with port', 'http://[::1]:8080/', '[::1]:8080', true],
    ['an IPv6 address written differently', 'http://[::1]/', '0:0:0:0:0:0:0:1', true],
    ['case and trailing dots', 'http://OCSP.Example.COM./', 'ocsp.example.com', true],
    ['one entry of a comma and space separated list', 'http://ocsp.example.com/', 'localhost, 127.0.0.1 ,example.com', true],
    ['an empty list', 'http://ocsp.example.com/', '', false],
  ])('%s: %s with NO_PROXY=%s -> %s', (_name, url, noProxy, expected) => {
    expect(excluded(url, noProxy)).toBe(expected);
  });
});

describe('parseProxyUrl', () => {
  it('rejects a SOCKS proxy with CONFIG_INVALID without echoing the credentials', () => {
    expect(() => parseProxyUrl('socks5://ops:hunter2@proxy:1080', 'config key proxy')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.not.stringContaining('hunter2') }),
    );
  });

  it('rejects a value that is not a URL with CONFIG_INVALID', () => {
    expect(() => parseProxyUrl('http://[broken', 'environment variable HTTPS_PROXY')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('HTTPS_PROXY') }),
    );
  });

  it('makes createHttpClient fail on an invalid proxy variable instead of silently going direct', () => {
    expect(() => createHttpClient({ userAgent: 'x', env: { HTTPS_PROXY: 'https://proxy:443' } })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('http URLs through a proxy', () => {
  it('sends the request through HTTP_PROXY in absolute-form when it is set', async () => {
    const before = proxy.seen.length;
    const response = await client({ env: { HTTP_PROXY: proxy.url } }).request(get(`${target.url}/via-env`));
    expect(response.statusCode).toBe(200);
    expect(Buffer.from(response.body).toString()).toBe('hello /via-env');
    expect(proxy.seen.slice(before)).toEqual([expect.objectContaining({ method: 'GET', target: `${target.url}/via-env`, host: new URL(target.url).host })]);
    expect(targetRequestsTo('/via-env')).toBe(1);
  });

  it('carries a POST body through the proxy unchanged', async () => {
    const body = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]);
    const response = await client({ env: { HTTP_PROXY: proxy.url } }).request(get(`${target.url}/echo`, { method: 'POST', body }));
    expect(Buffer.from(response.body)).toEqual(Buffer.from(body));
    expect(proxy.seen.at(-1)).toMatchObject({ method: 'POST', target: `${target.url}/echo` });
  });

  it('goes direct when NO_PROXY lists the host', async () => {
    const before = proxy.seen.length;
    const response = await client({ env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' } }).request(get(`${target.url}/bypass`));
    expect(response.statusCode).toBe(200);
    expect(proxy.seen.length).toBe(before);
    expect(targetRequestsTo('/bypass')).toBe(1);
  });

  it('uses the explicit proxy over HTTP_PROXY', async () => {
    const before = { env: proxy.seen.length, explicit: otherProxy.seen.length };
    const response = await client({ proxy: otherProxy.url, env: { HTTP_PROXY: proxy.url } }).request(get(`${target.url}/explicit`));
    expect(response.statusCode).toBe(200);
    expect(otherProxy.seen.length).toBe(before.explicit + 1);
    expect(proxy.seen.length).toBe(before.env);
  });

  it('reuses one keep-alive connection to the proxy for many requests', async () => {
    const proxied = client({ env: { HTTP_PROXY: otherProxy.url } });
    const connectionsBefore = otherProxy.connectionCount();
    for (let i = 0; i < 5; i += 1) {
      await proxied.request(get(`${target.url}/keep-alive/${i}`));
    }
    expect(otherProxy.connectionCount() - connectionsBefore).toBe(1);
  });

  it('throws FETCH_NETWORK naming the proxy when the proxy refuses the connection', async () => {
    await expect(client({ env: { HTTP_PROXY: deadProxyUrl } }).request(get(`${target.url}/dead`))).rejects.toMatchObject({
      code: 'FETCH_NETWORK',
      url: `${target.url}/dead`,
      message: expect.stringContaining(`via proxy ${deadProxyUrl}`),
    });
  });

  it('throws FETCH_HTTP_STATUS naming the proxy when it answers 407', async () => {
    proxy.mode = 'require-auth';
    await expect(client({ proxy: proxy.url }).request(get(`${target.url}/needs-auth`))).rejects.toMatchObject({
      code: 'FETCH_HTTP_STATUS',
      message: expect.stringContaining(`proxy ${proxy.url} answered HTTP 407`),
    });
    expect(targetRequestsTo('/needs-auth')).toBe(0);
  });

  it('sends Basic credentials from the proxy URL and keeps them out of error messages', async () => {
    proxy.mode = 'require-auth';
    const withCredentials = urlWithCredentials(proxy.url, 'ops', 's3cret pass');
    const response = await client({ proxy: withCredentials }).request(get(`${target.url}/authenticated`));
    expect(response.statusCode).toBe(200);
    expect(proxy.seen.at(-1)?.proxyAuthorization).toBe(EXPECTED_AUTHORIZATION);
    // The target must never see the proxy credentials.
    expect(target.requests.at(-1)?.headers['proxy-authorization']).toBeUndefined();
    const dead = urlWithCredentials(deadProxyUrl, 'ops', 's3cret pass');
    await expect(client({ proxy: dead }).request(get(`${target.url}/x`))).rejects.toMatchObject({
      code: 'FETCH_NETWORK',
      message: expect.not.stringContaining('s3cret'),
    });
  });

  it('turns a 502 from the proxy into FETCH_HTTP_STATUS at the fetcher', async () => {
    proxy.mode = 'answer-502';
    const fetcher = createCaIssuerFetcher({
      http: client({ proxy: proxy.url }),
      limiter: createHostLimiter({ perHost: 2, global: 8 }),
      timeoutMs: 5000,
      maxBodyBytes: 64 * 1024,
      userAgent: 'staplerd-test/1.0',
      now: () => new Date('2025-03-01T12:00:00Z'),
    });
    await expect(fetcher.fetch(`${target.url}/issuer.cer`)).rejects.toMatchObject({ code: 'FETCH_HTTP_STATUS' });
  });

  it('routes each redirect hop on its own: a hop to a NO_PROXY host goes direct', async () => {
    const port = new URL(target.url).port;
    const directHop = `http://localhost:${port}/after-redirect`;
    const before = proxy.seen.length;
    const response = await client({ env: { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost' } }).request(
      get(`${target.url}/redirect-to/${encodeURIComponent(directHop)}`),
    );
    expect(response.statusCode).toBe(200);
    expect(proxy.seen.slice(before).map((s) => s.target)).toEqual([`${target.url}/redirect-to/${encodeURIComponent(directHop)}`]);
    expect(targetRequestsTo('/after-redirect')).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('https URLs through a CONNECT tunnel', () => {
  let httpsTarget: https.Server;
  let httpsUrl: string;
  let rootPem: string;
  let otherRootPem: string;
  const httpsRequests: string[] = [];

  beforeAll(async () => {
    const pki = await createTestPki();
    const leaf = await pki.issueLeaf({ commonName: 'localhost' });
    rootPem = pki.authority.root.certificate.toPem();
    otherRootPem = (await createTestPki()).authority.root.certificate.toPem();
    httpsTarget = https.createServer(
      { key: await exportPrivateKeyPem(leaf.keys), cert: leaf.certificate.toPem() + pki.authority.intermediate.certificate.toPem() },
      (req, res) => {
        httpsRequests.push(req.url ?? '');
        respond(res, 200, Buffer.from('tls hello'));
      },
    );
    httpsTarget.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => httpsTarget.listen(0, '127.0.0.1', resolve));
    httpsUrl = `https://localhost:${(httpsTarget.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    const closed = new Promise<void>((resolve) => httpsTarget.close(() => resolve()));
    httpsTarget.closeAllConnections();
    await closed;
  });

  it('tunnels through HTTPS_PROXY with CONNECT and verifies the responder certificate end to end', async () => {
    const before = proxy.seen.length;
    const response = await client({ env: { HTTPS_PROXY: proxy.url }, tlsCaPem: rootPem }).request(get(`${httpsUrl}/tunnelled`));
    expect(Buffer.from(response.body).toString()).toBe('tls hello');
    expect(proxy.seen.slice(before)).toEqual([expect.objectContaining({ method: 'CONNECT', target: new URL(httpsUrl).host })]);
    expect(httpsRequests).toContain('/tunnelled');
  });

  it('keeps certificate verification on inside the tunnel', async () => {
    await expect(
      client({ env: { HTTPS_PROXY: proxy.url }, tlsCaPem: otherRootPem }).request(get(`${httpsUrl}/untrusted`)),
    ).rejects.toMatchObject({ code: 'FETCH_NETWORK', message: expect.stringContaining(`via proxy ${proxy.url}`) });
    expect(httpsRequests).not.toContain('/untrusted');
  });

  it('throws FETCH_HTTP_STATUS when the proxy refuses the CONNECT with 407', async () => {
    proxy.mode = 'refuse-connect-407';
    await expect(client({ proxy: proxy.url, tlsCaPem: rootPem }).request(get(`${httpsUrl}/refused`))).rejects.toMatchObject({
      code: 'FETCH_HTTP_STATUS',
      message: expect.stringContaining('HTTP 407'),
    });
  });

  it('throws FETCH_NETWORK naming the proxy when the proxy is down', async () => {
    await expect(client({ proxy: deadProxyUrl, tlsCaPem: rootPem }).request(get(`${httpsUrl}/dead`))).rejects.toMatchObject({
      code: 'FETCH_NETWORK',
      message: expect.stringContaining(`via proxy ${deadProxyUrl}`),
    });
  });
});
