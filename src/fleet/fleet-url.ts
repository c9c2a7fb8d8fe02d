// The --fleet URL: redis:// and rediss:// (TLS) as Redis defines them (https://www.iana.org/assignments/uri-schemes/
// prov/redis), and redis-sentinel://[user:pass@]host:port[,host:port...]/<master>, which WHATWG URL cannot parse (a
// list of hosts). Errors never quote the URL: it may hold a password.

export type FleetEndpoint =
  | { readonly kind: 'redis'; readonly url: string; readonly tls: boolean }
  | {
    readonly kind: 'sentinel';
    readonly sentinels: readonly { readonly host: string; readonly port: number }[];
    readonly masterName: string;
    readonly username?: string;
    readonly password?: string;
  };

const SENTINEL_PREFIX = 'redis-sentinel://';
const DEFAULT_SENTINEL_PORT = 26379;

/** Throws an Error whose message names what is wrong, never the URL itself. */
export function parseFleetUrl(text: string): FleetEndpoint {
  if (text.toLowerCase().startsWith(SENTINEL_PREFIX)) return parseSentinelUrl(text.slice(SENTINEL_PREFIX.length));
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('must be a redis://, rediss:// or redis-sentinel:// URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`scheme ${url.protocol} is not redis://, rediss:// or redis-sentinel://`);
  if (url.hostname === '') throw new Error('names no host');
  return { kind: 'redis', url: text, tls: url.protocol === 'rediss:' };
}

/** Whether the connection is TLS: rediss:// only (the Sentinel form here is plain TCP). */
export function isTlsFleetUrl(text: string): boolean {
  try {
    const endpoint = parseFleetUrl(text);
    return endpoint.kind === 'redis' && endpoint.tls;
  } catch {
    return false;
  }
}

function parseSentinelUrl(rest: string): FleetEndpoint {
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const masterName = decodeURIComponent(slash < 0 ? '' : rest.slice(slash + 1).replace(/[?#].*$/, ''));
  if (masterName === '') throw new Error('redis-sentinel:// needs the master name as its path (/mymaster)');
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : authority.slice(0, at);
  const hostList = at < 0 ? authority : authority.slice(at + 1);
  const sentinels = hostList.split(',').map((hostPort) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hostPort);
    if (!match) throw new Error('redis-sentinel:// hosts must be host[:port] separated by commas');
    const port = match[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(match[2]);
    if (port < 1 || port > 65535) throw new Error('redis-sentinel:// port out of range');
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
  });
  const colon = userinfo?.indexOf(':') ?? -1;
  const username = userinfo === undefined ? '' : decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = userinfo === undefined || colon < 0 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
  return { kind: 'sentinel', sentinels, masterName, ...(username ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}
