// The one module that imports ioredis (docs/architecture.md): FleetRedis over a command connection and a subscriber
// connection. Loaded with `await import()` only when --fleet is given, so a daemon without it does not carry ioredis.
import type { Redis as IoRedis, RedisOptions } from 'ioredis';
import type { FleetRedis, SharedRead } from './fleet-redis.js';
import { parseFleetUrl } from './fleet-url.js';

export interface FleetConnectionOptions {
  /** redis://, rediss:// (TLS) or redis-sentinel://host:port[,host:port...]/<master name> (docs/fleet.md). */
  readonly url: string;
  /** From --fleet-password-file; wins over a password in the URL. */
  readonly password?: string;
  /** From --fleet-ca-file: PEM CA certificates trusted for a rediss:// server instead of Node's default CAs. */
  readonly ca?: readonly string[];
  /** Each command fails after this long (a stopped or wedged Redis must not hold a pass). */
  readonly commandTimeoutMs: number;
  /** Told about connection errors (the coordinator logs one warning per outage). */
  readonly onError: (error: Error) => void;
}

/**
 * Reads the staple hash in one step: the type and size checks run inside Redis, so a hostile 512 MB value is never
 * transferred (Redis EVAL, https://redis.io/docs/latest/develop/interactive/programmability/eval-intro/).
 */
const READ_STAPLE = `
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return {'none'} end
if t ~= 'hash' then return {'wrong-type'} end
if redis.call('HSTRLEN', KEYS[1], 'der') > tonumber(ARGV[1]) then return {'too-large'} end
return {'value', redis.call('HGET', KEYS[1], 'der') or ''}`;

/** Never replaces a value with a later thisUpdate (an ordering hint only: every reader validates what it reads). */
const PUBLISH_STAPLE = `
if ARGV[4] ~= '1' and redis.call('TYPE', KEYS[1]).ok == 'hash' then
  local stored = tonumber(redis.call('HGET', KEYS[1], 'thisUpdate'))
  if stored and stored >= tonumber(ARGV[2]) then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'der', ARGV[1], 'thisUpdate', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1`;

/** Releases only our own lease (the classic compare-and-delete, https://redis.io/docs/latest/commands/set/). */
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const READ_TEXT = `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return false end
if redis.call('STRLEN', KEYS[1]) > tonumber(ARGV[1]) then return false end
return redis.call('GET', KEYS[1])`;

/** Reconnect quickly at first, then every 2 s at most, for ever: a fleet host rejoins whenever Redis returns. */
function reconnectDelayMs(attempt: number): number {
  return Math.min(attempt * 100, 2_000);
}

/** ioredis options for a URL: redis:// and rediss:// ioredis parses itself; the Sentinel form is ours. */
export function toRedisOptions(options: FleetConnectionOptions): { url?: string; options: RedisOptions } {
  const common: RedisOptions = {
    // No offline queue and no per-request retries: while Redis is away a command fails at once and the host goes on
    // alone (ioredis README, "Offline Queue"); the connection itself keeps retrying in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(1_000, options.commandTimeoutMs),
    retryStrategy: reconnectDelayMs,
    lazyConnect: false,
    ...(options.password !== undefined ? { password: options.password } : {}),
  };
  const endpoint = parseFleetUrl(options.url);
  if (endpoint.kind === 'redis') {
    // TLS whatever the scheme's case (ioredis itself only recognises a lower-case "rediss://"). Node's tls checks the
    // chain (against `ca` alone when given: it replaces the default CAs) and the hostname (checkServerIdentity).
    const tls = endpoint.tls ? { tls: options.ca === undefined ? {} : { ca: [...options.ca] } } : {};
    return { url: endpoint.url, options: { ...common, ...tls } };
  }
  // ioredis asks the Sentinels for the master and follows failovers itself (ioredis README, "Sentinel").
  const auth = {
    ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
    ...(endpoint.password !== undefined && options.password === undefined ? { password: endpoint.password } : {}),
  };
  return { options: { ...common, ...auth, sentinels: [...endpoint.sentinels], name: endpoint.masterName } };
}

function waitForReady(client: IoRedis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onReady = (): void => done(true);
    // A refused connection says so at once: a host whose Redis is absent must not wait out the whole timeout.
    const onError = (): void => done(false);
    const done = (ready: boolean): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      resolve(ready);
    };
    client.on('ready', onReady);
    client.on('error', onError);
  });
}

export async function connectFleetRedis(options: FleetConnectionOptions): Promise<FleetRedis> {
  const { Redis } = await import('ioredis');
  const { url, options: redisOptions } = toRedisOptions(options);
  let lastConnectionError: Error | undefined;
  const create = (): IoRedis => {
    const client = url === undefined ? new Redis(redisOptions) : new Redis(url, redisOptions);
    client.on('error', (error: Error) => {
      lastConnectionError = error;
      options.onError(error);
    });
    return client;
  };
  const commands = create();
  let subscriber: IoRedis | undefined;

  const evalBuffer = async (script: string, key: string, ...args: (string | Buffer | number)[]): Promise<unknown> =>
    commands.callBuffer('EVAL', script, 1, key, ...args);

  return {
    async readStaple(key, maxBytes): Promise<SharedRead> {
      const reply = await evalBuffer(READ_STAPLE, key, maxBytes);
      if (!Array.isArray(reply) || !Buffer.isBuffer(reply[0])) return { kind: 'wrong-type' };
      const kind = reply[0].toString('latin1');
      if (kind === 'value' && Buffer.isBuffer(reply[1])) return { kind: 'value', der: new Uint8Array(reply[1]) };
      if (kind === 'none' || kind === 'too-large') return { kind };
      return { kind: 'wrong-type' };
    },
    async publishStaple(key, der, thisUpdateMs, expireAtMs, replace) {
      const reply = await evalBuffer(PUBLISH_STAPLE, key, Buffer.from(der), thisUpdateMs, expireAtMs, replace ? '1' : '0');
      return reply === 1;
    },
    async takeLease(key, token, ttlMs) {
      return (await commands.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
    },
    async releaseLease(key, token) {
      await evalBuffer(RELEASE_LEASE, key, token);
    },
    async readText(key, maxBytes) {
      const reply = await evalBuffer(READ_TEXT, key, maxBytes);
      return Buffer.isBuffer(reply) ? reply.toString('utf8') : undefined;
    },
    async writeText(key, value, ttlMs) {
      await commands.set(key, value, 'PX', ttlMs);
    },
    async publish(channel, message) {
      await commands.publish(channel, message);
    },
    async subscribe(channel, onMessage) {
      // A connection in subscriber mode takes no other commands (Redis SUBSCRIBE); ioredis re-subscribes on reconnect.
      if (!subscriber) {
        subscriber = create();
        subscriber.on('message', (got: string, message: string) => {
          if (got === channel) onMessage(message);
        });
      }
      if (!(await waitForReady(subscriber, options.commandTimeoutMs))) throw new Error('subscriber connection not ready');
      await subscriber.subscribe(channel);
    },
    waitUntilReady: (timeoutMs) => waitForReady(commands, timeoutMs),
    lastConnectionError: () => lastConnectionError,
    onReady(listener) {
      commands.on('ready', listener);
    },
    async close() {
      commands.disconnect();
      subscriber?.disconnect();
    },
  };
}
