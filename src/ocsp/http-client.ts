// The one HTTP transport of staplerd (the only importer of got): bounded, non-retrying GET/POST over keep-alive agents,
// direct or through the outbound proxy that proxy-agents.ts picks per URL. Here: got's options, routes and
// redirect hooks; the request contract and URL check are in http-request.ts, reading the answer in read-response.ts.
// Types only here: got itself (with its dependency tree, about 20 MiB resident) is imported at the first request, so
// a daemon restarted over fresh staples does not carry it until a staple needs refreshing (issue 13).
import type { ExtendOptions, Got, NormalizedOptions, PlainResponse, Request, RequestFunction } from 'got';
import { StaplerdError } from '../errors/index.js';
import { MAX_REDIRECTS, SUPPORTED_PROTOCOLS, parseHttpUrl, type ClosableHttpClient, type HttpRequest, type HttpResponse } from './http-request.js';
import { createProxyRouter, type ProxyRoute, type ProxyRouter } from './proxy-agents.js';
import { collectResponse, resolveLocation } from './read-response.js';
import { createLookup, createPublicOnlyLookup, scopeOfOrigin, scopesOfHost, systemAddressPolicy, type AddressPolicy } from './redirect-guard.js';
import { decideRedirect, type AddressScope, type ClassifyAddress, type ResolveHost } from './redirect-policy.js';

// The contract this module implements, still importable from here by the fetchers, the pass and tests.
export type { ClosableHttpClient, HttpClient, HttpRequest, HttpResponse } from './http-request.js';

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

/** Idle keep-alive sockets are closed after this long so a quiet daemon does not hold connections open. */
const IDLE_SOCKET_TIMEOUT_MS = 30_000;

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
  const loadClient = (): Promise<Got> => (client ??= import('got').then((module) => module.default.extend(gotOptions)));
  return {
    request: async (req) => sendRequest(await loadClient(), req),
    // A failed load is reported by the request that awaits the same promise; here it must not become unhandled.
    prepare: () => loadClient().then(() => undefined, () => undefined),
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
  return collectResponse(stream, req, () => routeOf(stream));
}

