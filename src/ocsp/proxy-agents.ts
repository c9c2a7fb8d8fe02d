// Picks the outbound proxy for each URL (config `proxy`, HTTP(S)_PROXY, NO_PROXY) and keeps one keep-alive agent per route.
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { createRequire } from 'node:module';
import type * as Hpagent from 'hpagent';
import { StaplerdError } from '../errors/index.js';

export interface ProxySettings {
  /** From the `proxy:` config key / `--proxy`: used for http and https URLs, replacing HTTP_PROXY/HTTPS_PROXY. */
  readonly explicit?: URL;
  /** From http_proxy / HTTP_PROXY: used for http: URLs. */
  readonly forHttp?: URL;
  /** From https_proxy / HTTPS_PROXY: used for https: URLs. */
  readonly forHttps?: URL;
  /** From no_proxy / NO_PROXY: hosts reached directly, whichever proxy is configured. */
  readonly noProxy: readonly NoProxyEntry[];
}

export type NoProxyEntry =
  | { readonly kind: 'all' }
  | { readonly kind: 'domain'; readonly domain: string; readonly port?: number }
  | { readonly kind: 'network'; readonly addresses: BlockList; readonly port?: number };

/** Sends a request for a plain-http URL to the proxy in absolute-form; same shape as node:http's request. */
export type ForwardRequestFunction = (url: URL, options: http.RequestOptions, callback?: (response: http.IncomingMessage) => void) => http.ClientRequest;

export interface ProxyRoute {
  /** The proxy's origin without credentials, for messages; undefined for a direct connection. */
  readonly proxyOrigin?: string;
  /** The agent for this URL's scheme (got's `agent` option takes one per scheme). */
  readonly agents: { readonly http?: http.Agent; readonly https?: https.Agent };
  /** Only for http: URLs through a proxy: replaces node's request so the request line carries the absolute URL. */
  readonly request?: ForwardRequestFunction;
}

export interface ProxyRouter {
  readonly settings: ProxySettings;
  /** `publicOnly`: a redirect hop from a public responder, whose direct connections must reach public addresses only
   *  (they go through agents of their own, whose lookup refuses other addresses: see http-client.ts). */
  routeFor(url: URL, options?: { publicOnly?: boolean }): ProxyRoute;
  /** Destroys every agent's sockets. */
  destroy(): void;
}

export interface ProxyRouterOptions {
  proxy?: string;
  env: NodeJS.ProcessEnv;
  agentOptions: http.AgentOptions;
  /** The lookup of the public-only direct agents: it fails for any address that is not public. */
  publicOnlyLookup?: LookupFunction;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/** Reads the settings once and builds agents lazily: one direct pair, then one per (scheme, proxy) actually used,
 *  so thousands of requests through the same proxy share its keep-alive connections. */
export function createProxyRouter(options: ProxyRouterOptions): ProxyRouter {
  const settings = readProxySettings({ proxy: options.proxy, env: options.env });
  const directHttp: ProxyRoute = { agents: { http: new http.Agent(options.agentOptions) } };
  const directHttps: ProxyRoute = { agents: { https: new https.Agent(options.agentOptions) } };
  // Kept apart from the direct pair so a pooled keep-alive socket to a local address is never reused for such a hop:
  // every socket in these pools was opened through publicOnlyLookup (or to an IP literal checked before the hop).
  const publicOnlyOptions = { ...options.agentOptions, lookup: options.publicOnlyLookup };
  const publicOnlyHttp: ProxyRoute = { agents: { http: new http.Agent(publicOnlyOptions) } };
  const publicOnlyHttps: ProxyRoute = { agents: { https: new https.Agent(publicOnlyOptions) } };
  const proxied = new Map<string, ProxyRoute>();
  const routeThrough = (scheme: string, proxy: URL): ProxyRoute => {
    const key = `${scheme} ${proxy.href}`;
    let route = proxied.get(key);
    if (route === undefined) {
      route = scheme === 'https:' ? createTunnelRoute(proxy, options.agentOptions) : createForwardRoute(proxy, options.agentOptions);
      proxied.set(key, route);
    }
    return route;
  };
  return {
    settings,
    routeFor(url, routeOptions) {
      const proxy = selectProxy(url, settings);
      if (proxy !== undefined) return routeThrough(url.protocol, proxy);
      if (routeOptions?.publicOnly && options.publicOnlyLookup !== undefined) return url.protocol === 'https:' ? publicOnlyHttps : publicOnlyHttp;
      return url.protocol === 'https:' ? directHttps : directHttp;
    },
    destroy() {
      for (const route of [directHttp, directHttps, publicOnlyHttp, publicOnlyHttps, ...proxied.values()]) {
        route.agents.http?.destroy();
        route.agents.https?.destroy();
      }
      proxied.clear();
    },
  };
}

/** hpagent is needed only for https URLs through a proxy. routeFor is synchronous, so it is required (its CommonJS
 *  build) at the first such route instead of imported at start: a run without a proxy never loads it (issue 13). */
const requireFromHere = createRequire(import.meta.url);
function loadHpagent(): typeof Hpagent {
  return requireFromHere('hpagent') as typeof Hpagent;
}

/** https: URLs go through a CONNECT tunnel (RFC 9110 section 9.3.6) so TLS stays end to end with the responder;
 *  hpagent opens the tunnel and then does the TLS handshake with the usual verification. */
function createTunnelRoute(proxy: URL, agentOptions: http.AgentOptions): ProxyRoute {
  return { proxyOrigin: proxy.origin, agents: { https: new (loadHpagent().HttpsProxyAgent)({ ...agentOptions, proxy }) } };
}

/** http: URLs are sent to the proxy as `GET http://host/path` (absolute-form, RFC 9112 section 3.2.2), not through
 *  CONNECT: the usual Squid configuration allows CONNECT only to port 443 (`http_access deny CONNECT !SSL_ports`),
 *  while OCSP responders are almost all plain http on port 80. (hpagent's HttpProxyAgent always uses CONNECT.) */
function createForwardRoute(proxy: URL, agentOptions: http.AgentOptions): ProxyRoute {
  const agent = new http.Agent(agentOptions);
  const authorization = proxyAuthorization(proxy);
  const request: ForwardRequestFunction = (url, options, callback) =>
    http.request(
      {
        ...options,
        protocol: 'http:',
        host: proxy.hostname,
        hostname: proxy.hostname,
        port: effectivePort(proxy),
        path: `${url.protocol}//${url.host}${url.pathname}${url.search}`,
        headers: { ...options.headers, host: url.host, ...(authorization ? { 'proxy-authorization': authorization } : {}) },
        agent,
      },
      callback,
    );
  return { proxyOrigin: proxy.origin, agents: { http: agent }, request };
}

/** Basic credentials from the proxy URL's userinfo (RFC 9110 section 11.7.1), percent-decoded as curl does. */
function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/** The explicit proxy wins over the environment; NO_PROXY applies to both. Env values are read here, once. */
export function readProxySettings(options: { proxy?: string; env: NodeJS.ProcessEnv }): ProxySettings {
  const { env } = options;
  const explicitRaw = nonEmpty(options.proxy);
  return {
    explicit: explicitRaw === undefined ? undefined : parseProxyUrl(explicitRaw, 'config key proxy'),
    forHttp: readProxyVariable(env, 'http_proxy'),
    forHttps: readProxyVariable(env, 'https_proxy'),
    noProxy: parseNoProxy(readVariable(env, 'no_proxy')?.value ?? ''),
  };
}

/** The proxy for `url`, or undefined for a direct connection. */
export function selectProxy(url: URL, settings: ProxySettings): URL | undefined {
  const proxy = settings.explicit ?? (url.protocol === 'https:' ? settings.forHttps : settings.forHttp);
  if (proxy === undefined || isExcludedByNoProxy(url, settings.noProxy)) return undefined;
  return proxy;
}

function readProxyVariable(env: NodeJS.ProcessEnv, lowerName: string): URL | undefined {
  const variable = readVariable(env, lowerName);
  return variable === undefined ? undefined : parseProxyUrl(variable.value, `environment variable ${variable.name}`);
}

/** Lowercase first, as curl, wget and Python's urllib read them; an empty value counts as unset. */
function readVariable(env: NodeJS.ProcessEnv, lowerName: string): { name: string; value: string } | undefined {
  for (const name of [lowerName, lowerName.toUpperCase()]) {
    const value = nonEmpty(env[name]);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Validates a proxy URL (config key or environment variable), defaulting a bare `host:port` to http:// as curl does.
 *  Messages never echo the raw value: it may carry a password. Throws CONFIG_INVALID. */
export function parseProxyUrl(raw: string, source: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (error) {
    throw new StaplerdError('CONFIG_INVALID', `${source}: the proxy is not a valid URL`, {}, { cause: error });
  }
  if (url.protocol !== 'http:') {
    // TLS to the proxy itself (https://) and SOCKS are not implemented; https: responders still get a CONNECT
    // tunnel through an http:// proxy.
    throw new StaplerdError('CONFIG_INVALID', `${source}: proxy scheme ${url.protocol} is not supported (use http://host:port)`);
  }
  if (url.hostname === '') throw new StaplerdError('CONFIG_INVALID', `${source}: the proxy URL has no host`);
  return url;
}

/** NO_PROXY as curl (7.86+) reads it: comma- or space-separated; `*` alone disables proxies; `host:port` limits an
 *  entry to that port; a leading `.` or `*.` is dropped and a name matches itself and its subdomains; IP addresses
 *  and CIDR ranges match numerically. Unparsable entries are ignored, as curl does. */
export function parseNoProxy(value: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const token of value.toLowerCase().split(/[\s,]+/)) {
    if (token === '') continue;
    if (token === '*') {
      entries.push({ kind: 'all' });
      continue;
    }
    const entry = parseNoProxyEntry(token);
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
}

function parseNoProxyEntry(token: string): NoProxyEntry | undefined {
  const { host, port } = splitHostPort(token);
  if (host === '') return undefined;
  const network = parseNetwork(host);
  if (network !== undefined) return { kind: 'network', addresses: network, port };
  const domain = host.replace(/^\*/, '').replace(/^\./, '').replace(/\.$/, '');
  if (domain === '' || /[*/:]/.test(domain)) return undefined;
  return { kind: 'domain', domain, port };
}

/** `[::1]:8080`, `host:8080`, bare `::1` (more than one colon means IPv6 without a port). */
function splitHostPort(token: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(token);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const withPort = /^([^:]+):(\d+)$/.exec(token);
  if (withPort) return { host: withPort[1]!, port: Number(withPort[2]) };
  return { host: token };
}

/** An IP address or CIDR range as a BlockList, which compares addresses numerically (so `::1` equals `0:0::1`). */
function parseNetwork(host: string): BlockList | undefined {
  const [address, prefix, extra] = host.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return undefined;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  if (prefix === undefined) {
    list.addAddress(address!, type);
    return list;
  }
  const prefixBits = Number(prefix);
  if (!/^\d+$/.test(prefix) || prefixBits > (family === 6 ? 128 : 32)) return undefined;
  list.addSubnet(address!, prefixBits, type);
  return list;
}

export function isExcludedByNoProxy(url: URL, entries: readonly NoProxyEntry[]): boolean {
  if (entries.length === 0) return false;
  // URL keeps IPv6 hosts in brackets; a trailing dot names the same host (RFC 1034 section 3.1).
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const port = effectivePort(url);
  const family = isIP(host);
  return entries.some((entry) => {
    if (entry.kind === 'all') return true;
    if (entry.port !== undefined && entry.port !== port) return false;
    if (entry.kind === 'network') return family !== 0 && entry.addresses.check(host, family === 6 ? 'ipv6' : 'ipv4');
    return host === entry.domain || host.endsWith(`.${entry.domain}`);
  });
}

function effectivePort(url: URL): number {
  return url.port === '' ? (DEFAULT_PORTS[url.protocol] ?? 0) : Number(url.port);
}
