// Which HTTP redirects staplerd follows: pure rules on the hop's URLs, method and the addresses involved.
// OCSP runs over plain HTTP, so anyone on the path can answer with a redirect; without these rules a forged
// `302 Location: http://127.0.0.1:9999/admin` (or a 307 re-POSTing the request there) aims a root daemon at local
// services (issue "hostile files", finding 7; the SSRF pattern of OWASP's SSRF prevention cheat sheet).
import { BlockList, isIP } from 'node:net';

/** Where an address points: `public` is anything not in the special-purpose ranges below (RFC 6890 registries). */
export type AddressScope = 'public' | 'loopback' | 'link-local' | 'private' | 'unspecified';

export type ClassifyAddress = (address: string) => AddressScope;

/** Resolves a host name to every address it has (what a connection could end up at). */
export type ResolveHost = (hostname: string) => Promise<readonly string[]>;

function blockList(entries: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']>): BlockList {
  const list = new BlockList();
  for (const [network, prefix, type] of entries) list.addSubnet(network, prefix, type);
  return list;
}

const RANGES: ReadonlyArray<readonly [Exclude<AddressScope, 'public'>, BlockList]> = [
  // RFC 1122 section 3.2.1.3 (0/8, "this network"), RFC 4291 section 2.5.2 (::).
  ['unspecified', blockList([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']])],
  // RFC 1122 section 3.2.1.3 (127/8), RFC 4291 section 2.5.3 (::1).
  ['loopback', blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']])],
  // RFC 3927 (169.254/16), RFC 4291 section 2.5.6 (fe80::/10).
  ['link-local', blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']])],
  // RFC 1918, RFC 6598 shared address space (carrier-grade NAT), RFC 4193 unique local addresses.
  [
    'private',
    blockList([
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
    ]),
  ],
];

/** IPv4-mapped IPv6 (`::ffff:127.0.0.1`, RFC 4291 section 2.5.5.2) reaches the IPv4 address, so it is judged as one. */
const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** The scope of an IP address; anything that is not an IP address counts as `unspecified` (never trusted as public). */
export function classifyAddress(address: string): AddressScope {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const mapped = IPV4_MAPPED.exec(bare)?.[1];
  const ip = mapped ?? bare;
  const family = isIP(ip);
  if (family === 0) return 'unspecified';
  const type = family === 6 ? 'ipv6' : 'ipv4';
  for (const [scope, list] of RANGES) if (list.check(ip, type)) return scope;
  return 'public';
}

export interface RedirectHop {
  readonly from: URL;
  readonly to: URL;
  /** The method the next hop would use, after got's rewriting (301/302/303 turn POST into GET; 307/308 keep it). */
  readonly nextMethod: string;
  /** Scope of the address the original request connected to (the first responder of the chain). */
  readonly originScope: AddressScope;
  /** Scopes of the addresses the target may connect to: its IP literal, or what its name resolves to. */
  readonly targetScopes: readonly AddressScope[];
}

export type RedirectVerdict = { readonly follow: true } | { readonly follow: false; readonly reason: string };

const BODYLESS_METHODS = new Set(['GET', 'HEAD']);

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/** Decides one hop. Schemes other than http/https are refused before this (URL_UNSUPPORTED). */
export function decideRedirect(hop: RedirectHop): RedirectVerdict {
  // RFC 9110 section 15.4.8: a 307 repeats the request, body included; to another host that hands the OCSP request
  // (or anything a future POST carries) to whoever the redirect names.
  if (!BODYLESS_METHODS.has(hop.nextMethod.toUpperCase()) && !isSameHost(hop.from, hop.to)) {
    return { follow: false, reason: `it would re-send the ${hop.nextMethod} body to another host` };
  }
  if (hop.originScope === 'public') {
    const local = hop.targetScopes.find((scope) => scope !== 'public');
    if (local !== undefined) return { follow: false, reason: `it leads from a public address to ${withArticle(local)} address` };
  }
  return { follow: true };
}

function withArticle(scope: AddressScope): string {
  return /^[aeiou]/.test(scope) ? `an ${scope}` : `a ${scope}`;
}

/** Same host name and port; an upgrade from http on port 80 to https on port 443 of the same name counts as the same
 *  host (the usual "always use TLS" redirect). */
export function isSameHost(from: URL, to: URL): boolean {
  if (normaliseHostname(from.hostname) !== normaliseHostname(to.hostname)) return false;
  const fromPort = from.port || DEFAULT_PORTS[from.protocol];
  const toPort = to.port || DEFAULT_PORTS[to.protocol];
  if (from.protocol === to.protocol) return fromPort === toPort;
  return from.protocol === 'http:' && to.protocol === 'https:' && fromPort === '80' && toPort === '443';
}

/** URL keeps IPv6 hosts in brackets; a trailing dot names the same host (RFC 1034 section 3.1). */
export function normaliseHostname(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}
