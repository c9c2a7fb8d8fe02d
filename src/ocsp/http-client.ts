// The one HTTP transport of staplerd (the only importer of got): bounded, non-retrying GET/POST over keep-alive agents,
// direct or through the outbound proxy that proxy-agents.ts picks per URL.
// Types only here: got itself (with its dependency tree, about 20 MiB resident) is imported at the first request, so
// a daemon restarted over fresh staples does not carry it until a staple needs refreshing (issue 13).
import type { ExtendOptions, Got, NormalizedOptions, PlainResponse, Request, RequestFunction } from 'got';
import { StaplerdError } from '../errors/index.js';
import { createProxyRouter, type ProxyRoute, type ProxyRouter } from './proxy-agents.js';
import { createLookup, createPublicOnlyLookup, scopeOfOrigin, scopesOfHost, systemAddressPolicy, type AddressPolicy } from './redirect-guard.js';
import { decideRedirect, type AddressScope, type ClassifyAddress, type ResolveHost } from './redirect-policy.js';

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
  /** Tests only: how addresses are classified for the redirect rules (redirect-policy.ts); defaults to the real
   *  ranges. Tests on 127.0.0.1 use it to play a "public" responder on another loopback address. */
  classifyAddress?: ClassifyAddress;
  /** Tests only: resolves host names for direct connections and the redirect rules; defaults to dns.lookup. */
  resolveHost?: ResolveHost;
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
  /** Set at the first redirect: the scope of the address the chain's first request went to. */
  originScope?: AddressScope;
  /** This hop is a redirect from a public responder: direct connections must reach public addresses only. */
  publicOnly?: boolean;
}

/** Creates a client whose agents are shared by every request: a sweep over thousands of certificates hits the same
 *  few responders (or one proxy), so reusing TCP (and TLS) connections saves most of the cost. */
export function createHttpClient(options: HttpClientOptions): ClosableHttpClient {
  const policy: AddressPolicy = {
    classify: options.classifyAddress ?? systemAddressPolicy.classify,
    resolveHost: options.resolveHost ?? systemAddressPolicy.resolveHost,
  };
  const router = createProxyRouter({
    proxy: options.proxy,
    env: options.env ?? process.env,
    agentOptions: { keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS, ...(options.resolveHost ? { lookup: createLookup(options.resolveHost) } : {}) },
    publicOnlyLookup: createPublicOnlyLookup(policy),
  });
  const gotOptions: ExtendOptions = {
    // The scheduler owns retries and backoff (per-certificate state); got retrying underneath would multiply them.
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: isRedirectToHttp,
    maxRedirects: MAX_REDIRECTS,
    // 301 and 302 turn a POST into a GET without body, as curl and browsers do (RFC 9110 section 15.4.2 allows it;
    // got keeps the POST by default); 303 always does. Only 307/308 keep the body, and guardRedirect refuses those
    // to another host.
    methodRewriting: true,
    // Without decompression got does not send Accept-Encoding, so maxBodyBytes bounds the bytes on the wire and a
    // compressed bomb cannot expand past it.
    decompress: false,
    // No cookieJar: responders get no state from us.
    headers: { 'user-agent': options.userAgent },
    ...(options.tlsCaPem === undefined ? {} : { https: { certificateAuthority: options.tlsCaPem } }),
    // beforeRequest runs before every request, redirects included, so a redirect to another host gets its own route.
    hooks: {
      beforeRequest: [(requestOptions) => applyRoute(requestOptions, router)],
      // Runs for every hop before its request is made (got source/core/index.js, _onResponseBase).
      beforeRedirect: [(nextOptions, response) => guardRedirect(nextOptions, response, policy)],
    },
  };
  let client: Promise<Got> | undefined;
  return {
    request: async (req) => sendRequest(await (client ??= import('got').then((module) => module.default.extend(gotOptions))), req),
    close: () => router.destroy(),
  };
}

/** Points got at the agent (and, for plain http through a proxy, the request function) for this URL's route, and
 *  records the route so errors can name the proxy. */
function applyRoute(requestOptions: NormalizedOptions, router: ProxyRouter): void {
  if (requestOptions.url === undefined) return;
  const publicOnly = (requestOptions.context as RouteContext | undefined)?.publicOnly === true;
  const route = router.routeFor(requestOptions.url, { publicOnly });
  requestOptions.agent = { ...route.agents };
  requestOptions.request = route.request as RequestFunction | undefined;
  // got clones `context` for every request, so concurrent requests never see each other's route.
  requestOptions.context = { ...requestOptions.context, route } satisfies RouteContext;
}

/** Decides one redirect hop (redirect-policy.ts) and marks hops from a public responder so applyRoute gives them the
 *  public-only agents. The origin is judged by the address its connection went to; through a proxy (whose address
 *  that is) by the origin's name as resolved here. */
async function guardRedirect(next: NormalizedOptions, response: PlainResponse, policy: AddressPolicy): Promise<void> {
  const context = (next.context ?? {}) as RouteContext;
  const from = new URL(response.url);
  const to = new URL(next.url ?? response.url);
  const originScope = context.originScope ?? (await scopeOfFirstHop(from, response.ip, context.route, policy));
  // Only a public origin restricts targets, so only then is the target's name worth a lookup.
  const targetScopes = originScope === 'public' ? ((await scopesOfHost(to.hostname, policy)) ?? []) : [];
  const verdict = decideRedirect({ from, to, nextMethod: next.method, originScope, targetScopes });
  if (!verdict.follow) {
    throw new StaplerdError('REDIRECT_REFUSED', `refused the HTTP ${response.statusCode} redirect to ${to.href}: ${verdict.reason}`, { url: to.href });
  }
  next.context = { ...context, originScope, publicOnly: originScope === 'public' } satisfies RouteContext;
}

async function scopeOfFirstHop(from: URL, connectedIp: string | undefined, route: ProxyRoute | undefined, policy: AddressPolicy): Promise<AddressScope> {
  if (route?.proxyOrigin === undefined && connectedIp !== undefined) return policy.classify(connectedIp);
  return scopeOfOrigin(await scopesOfHost(from.hostname, policy));
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
  // got wraps what a hook or a lookup threw (REDIRECT_REFUSED) in a RequestError; the code inside is the one that counts.
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof StaplerdError) return new StaplerdError(cause.code, `${where}: ${cause.message}`, { url }, { cause });
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
