// Applies redirect-policy.ts to real hops: finds the scopes of the addresses involved and, for direct connections,
// refuses at connect time any address a redirect from a public responder must not reach (defeats DNS rebinding:
// the check is made on the address actually connected to, not on an earlier answer).
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { StaplerdError } from '../errors/index.js';
import { classifyAddress, normaliseHostname, type AddressScope, type ClassifyAddress, type ResolveHost } from './redirect-policy.js';

export interface AddressPolicy {
  readonly classify: ClassifyAddress;
  readonly resolveHost: ResolveHost;
}

export const systemResolveHost: ResolveHost = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

export const systemAddressPolicy: AddressPolicy = { classify: classifyAddress, resolveHost: systemResolveHost };

/** Scopes of every address `hostname` may connect to; undefined when the name does not resolve here (through a proxy
 *  only the proxy may be able to resolve it). */
export async function scopesOfHost(hostname: string, policy: AddressPolicy): Promise<AddressScope[] | undefined> {
  const host = normaliseHostname(hostname);
  if (isIP(host) !== 0) return [policy.classify(host)];
  try {
    const addresses = await policy.resolveHost(host);
    return addresses.length === 0 ? undefined : addresses.map((address) => policy.classify(address));
  } catch {
    return undefined;
  }
}

/** The scope of a chain's first responder: `public` unless every address it may be is non-public, so an unknown
 *  origin never unlocks local targets. */
export function scopeOfOrigin(scopes: readonly AddressScope[] | undefined): AddressScope {
  if (scopes === undefined || scopes.length === 0 || scopes.includes('public')) return 'public';
  return scopes[0]!;
}

type LookupCallback = Parameters<LookupFunction>[2];

/** A node `lookup` answering from `resolveHost`, honouring `family` and `all` as dns.lookup does. */
export function createLookup(resolveHost: ResolveHost, check: (hostname: string, addresses: readonly string[]) => Error | undefined = () => undefined): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    resolveHost(hostname).then(
      (resolved) => {
        const wanted = requestedFamily(options.family);
        const entries: LookupAddress[] = resolved.map((address) => ({ address, family: isIP(address) })).filter((entry) => wanted === 0 || entry.family === wanted);
        const problem = check(hostname, entries.map((entry) => entry.address));
        if (problem !== undefined) return callback(problem, '', 0);
        if (entries.length === 0) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) return callback(null, entries);
        return callback(null, entries[0]!.address, entries[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

/** dns.lookup takes 4, 6, 'IPv4' or 'IPv6'; anything else (0, undefined) means either. */
function requestedFamily(family: LookupOptions['family']): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

/** The lookup of connections made for a redirect from a public responder: any non-public address fails the
 *  connection with REDIRECT_REFUSED before a byte is sent. */
export function createPublicOnlyLookup(policy: AddressPolicy): LookupFunction {
  return createLookup(policy.resolveHost, (hostname, addresses) => {
    for (const address of addresses) {
      const scope = policy.classify(address);
      if (scope !== 'public') {
        return new StaplerdError('REDIRECT_REFUSED', `refused to connect to ${hostname} (${address}): a redirect from a public address may not lead to a ${scope} address`);
      }
    }
    return undefined;
  });
}
