// The one HTTP transport of staplerd (the only importer of got): bounded, non-retrying GET/POST over keep-alive agents,
// direct or through the outbound proxy that proxy-agents.ts picks per URL.
import got, { type Got, type NormalizedOptions, type PlainResponse, type Request, type RequestFunction } from 'got';
import { StaplerdError } from '../errors/index.js';
import { createProxyRouter, type ProxyRoute, type ProxyRouter } from './proxy-agents.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  /** How errors name the request, when not by `url`: an OCSP GET URL carries the whole base64 request, which only
   *  makes log lines long and ungroupable, so OCSP errors name the responder URL instead. */
  displayUrl?: string;
  body?: Uint8Array;
  headers: Record<string, string>;
  timeoutMs: number;
  maxBodyBytes: number;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body: Uint8Array;
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
}

export interface ClosableHttpClient extends HttpClient {
  /** Destroys the keep-alive agents' sockets; call once when the process (or a test) is done. */
  close(): void;
}

export interface HttpClientOptions {
  userAgent: string;
  /** Outbound proxy from the `proxy:` config key / `--proxy`: http://[user:pass@]host[:port], used for http and https
   *  URLs instead of HTTP_PROXY/HTTPS_PROXY; NO_PROXY still applies. Invalid: throws CONFIG_INVALID. */
  proxy?: string;
  /** Where HTTP_PROXY, HTTPS_PROXY and NO_PROXY are read (once, here); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Tests only: PEM CA certificates that replace the system trust store for https URLs. Certificate and host name
   *  verification stay on either way. */
  tlsCaPem?: string;
}

/** Followed redirects per request; OCSP responders rarely redirect, and a loop must not cost a whole timeout. */
const MAX_REDIRECTS = 3;

/** Idle keep-alive sockets are closed after this long so a quiet daemon does not hold connections open. */
const IDLE_SOCKET_TIMEOUT_MS = 30_000;

const SUPPORTED_PROTOCOLS = new Set(['http:', 'https:']);

/** HTTP 407 Proxy Authentication Required (RFC 9110 section 15.5.8) only ever comes from a proxy. */
const PROXY_AUTHENTICATION_REQUIRED = 407;

interface RouteContext {
  route?: ProxyRoute;
}

/** Creates a client whose agents are shared by every request: a sweep over thousands of certificates hits the same
 *  few responders (or one proxy), so reusing TCP (and TLS) connections saves most of the cost. */
export function createHttpClient(options: HttpClientOptions): ClosableHttpClient {
  const router = createProxyRouter({
    proxy: options.proxy,
    env: options.env ?? process.env,
    agentOptions: { keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS },
  });
  const client = got.extend({
    // The scheduler owns retries and backoff (per-certificate state); got retrying underneath would multiply them.
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: isRedirectToHttp,
    maxRedirects: MAX_REDIRECTS,
    // Without decompression got does not send Accept-Encoding, so maxBodyBytes bounds the bytes on the wire and a
    // compressed bomb cannot expand past it.
    decompress: false,
    // No cookieJar: responders get no state from us.
    headers: { 'user-agent': options.userAgent },
    ...(options.tlsCaPem === undefined ? {} : { https: { certificateAuthority: options.tlsCaPem } }),
    // beforeRequest runs before every request, redirects included, so a redirect to another host gets its own route.
    hooks: { beforeRequest: [(requestOptions) => applyRoute(requestOptions, router)] },
  });
  return {
    request: (req) => sendRequest(client, req),
    close: () => router.destroy(),
  };
}

/** Points got at the agent (and, for plain http through a proxy, the request function) for this URL's route, and
 *  records the route so errors can name the proxy. */
function applyRoute(requestOptions: NormalizedOptions, router: ProxyRouter): void {
  if (requestOptions.url === undefined) return;
  const route = router.routeFor(requestOptions.url);
  requestOptions.agent = { ...route.agents };
  requestOptions.request = route.request as RequestFunction | undefined;
  // got clones `context` for every request, so concurrent requests never see each other's route.
  requestOptions.context = { ...requestOptions.context, route } satisfies RouteContext;
}

function routeOf(stream: Request): ProxyRoute | undefined {
  return (stream.options?.context as RouteContext | undefined)?.route;
}

/** got's `followRedirect` predicate: follow only to http/https, anything else is surfaced by `rejectOtherScheme`. */
function isRedirectToHttp(response: PlainResponse): boolean {
  const target = resolveLocation(response);
  return target !== undefined && SUPPORTED_PROTOCOLS.has(target.protocol);
}

function resolveLocation(response: PlainResponse): URL | undefined {
  const location = response.headers.location;
  if (location === undefined) return undefined;
  try {
    return new URL(location, response.url);
  } catch {
    return undefined;
  }
}

async function sendRequest(client: Got, req: HttpRequest): Promise<HttpResponse> {
  const url = parseHttpUrl(req.url);
  const stream = client.stream(url, {
    method: req.method,
    body: req.body === undefined ? undefined : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength),
    headers: req.headers,
    // `request` covers the whole attempt from socket to the end of the body (got source/core/timed-out.ts), so a
    // responder trickling bytes cannot hold a worker longer than timeoutMs.
    timeout: { request: req.timeoutMs },
  });
  return collectResponse(stream, req);
}

/** Rejects anything but absolute http:/https: URLs before a socket is opened. */
function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new StaplerdError('URL_UNSUPPORTED', `not a valid URL: ${raw}`, { url: raw }, { cause: error });
  }
  if (!SUPPORTED_PROTOCOLS.has(url.protocol)) {
    throw new StaplerdError('URL_UNSUPPORTED', `URL scheme ${url.protocol} is not http or https`, { url: raw });
  }
  return url;
}

/** Reads the body chunk by chunk, aborting as soon as it passes maxBodyBytes (got itself has no download limit). */
function collectResponse(stream: Request, req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let response: PlainResponse | undefined;
    let settled = false;
    let receivedBytes = 0;
    const chunks: Buffer[] = [];
    const fail = (error: StaplerdError): void => {
      if (settled) return;
      settled = true;
      stream.destroy();
      reject(error);
    };
    stream.once('response', (res: PlainResponse) => {
      response = res;
      const problem = rejectProxyAuthentication(res, req, routeOf(stream)) ?? checkAnnouncedLength(res, req) ?? rejectOtherScheme(res, req);
      if (problem) fail(problem);
    });
    stream.on('data', (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes > req.maxBodyBytes) {
        fail(tooLargeError(req, `body passed ${req.maxBodyBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => {
      if (settled) return;
      settled = true;
      if (response === undefined) {
        reject(new StaplerdError('INTERNAL', 'response stream ended without a response', { url: shownUrl(req) }));
        return;
      }
      resolve({ statusCode: response.statusCode, headers: flattenHeaders(response.headers), body: new Uint8Array(Buffer.concat(chunks)) });
    });
    stream.once('error', (error: unknown) => fail(toFetchError(error, shownUrl(req), routeOf(stream)?.proxyOrigin)));
  });
}

/** A proxy asking for credentials is a configuration problem of the proxy, not of the responder: fail with a message
 *  naming the proxy instead of handing a 407 back (which would also make the OCSP fetcher retry the same URL by POST). */
function rejectProxyAuthentication(response: PlainResponse, req: HttpRequest, route: ProxyRoute | undefined): StaplerdError | undefined {
  if (route?.proxyOrigin === undefined || response.statusCode !== PROXY_AUTHENTICATION_REQUIRED) return undefined;
  return new StaplerdError('FETCH_HTTP_STATUS', `${req.method} ${shownUrl(req)}: proxy ${route.proxyOrigin} answered HTTP 407 (credentials missing or refused)`, {
    url: shownUrl(req),
  });
}

/** A Content-Length above the limit is refused before reading a byte of it. */
function checkAnnouncedLength(response: PlainResponse, req: HttpRequest): StaplerdError | undefined {
  const header = response.headers['content-length'];
  if (header === undefined) return undefined;
  const announcedBytes = Number(header);
  if (!Number.isFinite(announcedBytes) || announcedBytes <= req.maxBodyBytes) return undefined;
  return tooLargeError(req, `Content-Length ${announcedBytes} exceeds ${req.maxBodyBytes} bytes`);
}

/** A redirect we declined to follow because of its scheme (ftp:, file:, ldap:...) is an unsupported URL, not a 3xx. */
function rejectOtherScheme(response: PlainResponse, req: HttpRequest): StaplerdError | undefined {
  if (response.statusCode < 300 || response.statusCode >= 400) return undefined;
  const target = resolveLocation(response);
  if (target === undefined || SUPPORTED_PROTOCOLS.has(target.protocol)) return undefined;
  return new StaplerdError('URL_UNSUPPORTED', `redirected to unsupported scheme ${target.protocol}`, { url: shownUrl(req) });
}

function tooLargeError(req: HttpRequest, detail: string): StaplerdError {
  return new StaplerdError('FETCH_TOO_LARGE', `${req.method} ${shownUrl(req)}: ${detail}`, { url: shownUrl(req) });
}

function flattenHeaders(headers: PlainResponse['headers']): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** hpagent reports a CONNECT refused by the proxy as a plain Error with this message (hpagent 1.2 index.js). */
const CONNECT_REFUSED_MESSAGE = /^Bad response: (\d{3})$/;

/** Maps got/Node errors onto staplerd codes; the code, not the message, drives retry and log level. Errors on a
 *  proxied request name the proxy, since the operator's fix is often there rather than at the responder. */
function toFetchError(error: unknown, url: string, proxyOrigin: string | undefined): StaplerdError {
  if (error instanceof StaplerdError) return error;
  const { name, code, message } = describeError(error);
  const where = proxyOrigin === undefined ? url : `${url} via proxy ${proxyOrigin}`;
  const connectStatus = proxyOrigin === undefined ? undefined : CONNECT_REFUSED_MESSAGE.exec(message)?.[1];
  if (connectStatus !== undefined) {
    return new StaplerdError('FETCH_HTTP_STATUS', `${where}: the proxy refused the CONNECT tunnel with HTTP ${connectStatus}`, { url }, { cause: error });
  }
  if (name === 'TimeoutError' || code === 'ETIMEDOUT' || (proxyOrigin !== undefined && message === 'Proxy timeout')) {
    return new StaplerdError('FETCH_TIMEOUT', `no complete answer from ${where}: ${message}`, { url }, { cause: error });
  }
  if (code === 'ERR_UNSUPPORTED_PROTOCOL') {
    return new StaplerdError('URL_UNSUPPORTED', message, { url }, { cause: error });
  }
  if (code === 'ERR_TOO_MANY_REDIRECTS') {
    return new StaplerdError('FETCH_HTTP_STATUS', `more than ${MAX_REDIRECTS} redirects from ${url}`, { url }, { cause: error });
  }
  // Refused, reset, DNS failure, TLS failure, server hung up mid-body: all "unreachable for now".
  return new StaplerdError('FETCH_NETWORK', `${where}: ${message}${code ? ` (${code})` : ''}`, { url }, { cause: error });
}

function describeError(error: unknown): { name?: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, code: typeof code === 'string' ? code : undefined, message: error.message };
}

function shownUrl(req: HttpRequest): string {
  return req.displayUrl ?? req.url;
}
