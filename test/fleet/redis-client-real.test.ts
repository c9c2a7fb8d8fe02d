// The ioredis adapter against a real redis-server on a free loopback port: the Lua scripts (size cap, type check,
// never-older publish, compare-and-delete release) and a wedged (SIGSTOPped) or stopped Redis failing fast.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectFleetRedis } from '../../src/fleet/redis-client.js';
import type { FleetRedis } from '../../src/fleet/fleet-redis.js';
import { missingRedisReason, startRedisServer, type RunningRedis } from '../helpers/redis-server.js';
import { findFreePort } from '../helpers/servers.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';

function describeRealRedis(): void {
  let dir: string;
  let redis: RunningRedis;
  let client: FleetRedis;

  beforeAll(async () => {
    dir = await makeTempDir('staplerd-redis-');
    redis = await startRedisServer(undefined, { dir, port: await findFreePort() });
    client = await connectFleetRedis({ url: redis.url, commandTimeoutMs: 500, onError: () => {} });
    expect(await client.waitUntilReady(5_000)).toBe(true);
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await redis?.stop();
    if (dir) await removeTempDir(dir);
  });

  it('stores a staple with its thisUpdate and expiry, and never replaces it with an older one unless told to', async () => {
    const der = new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x00]);
    expect(await client.publishStaple('t:staple:a', der, 2_000, Date.now() + 60_000, false)).toBe(true);
    expect(await client.publishStaple('t:staple:a', new Uint8Array([1]), 1_000, Date.now() + 60_000, false)).toBe(false);
    expect(await client.readStaple('t:staple:a', 100)).toEqual({ kind: 'value', der });
    expect(Number(await redis.cli(['PTTL', 't:staple:a']))).toBeGreaterThan(50_000);
    expect(await client.publishStaple('t:staple:a', new Uint8Array([1]), 1_000, Date.now() + 60_000, true)).toBe(true);
    expect(await client.readStaple('t:staple:a', 100)).toEqual({ kind: 'value', der: new Uint8Array([1]) });
  });

  it('refuses an oversized value inside Redis and reports another type as wrong-type', async () => {
    await client.publishStaple('t:staple:big', new Uint8Array(5000), 1, Date.now() + 60_000, false);
    expect(await client.readStaple('t:staple:big', 4096)).toEqual({ kind: 'too-large' });
    await redis.cli(['SET', 't:staple:str', 'x']);
    expect(await client.readStaple('t:staple:str', 4096)).toEqual({ kind: 'wrong-type' });
    expect(await client.readStaple('t:staple:none', 4096)).toEqual({ kind: 'none' });
  });

  it('releases a lease only while it still holds the token', async () => {
    expect(await client.takeLease('t:lease:a', 'me', 60_000)).toBe(true);
    expect(await client.takeLease('t:lease:a', 'other', 60_000)).toBe(false);
    await client.releaseLease('t:lease:a', 'other');
    expect(await redis.cli(['GET', 't:lease:a'])).toBe('me');
    await client.releaseLease('t:lease:a', 'me');
    expect(await redis.cli(['EXISTS', 't:lease:a'])).toBe('0');
  });

  it('fails a command within its timeout while Redis is stopped with SIGSTOP, and works again after SIGCONT', async () => {
    redis.pause();
    try {
      const startedAt = Date.now();
      await expect(client.readStaple('t:staple:a', 100)).rejects.toThrow(/timed out/i);
      expect(Date.now() - startedAt).toBeLessThan(5_000);
    } finally {
      redis.resume();
    }
    await expect(client.readStaple('t:staple:none', 100)).resolves.toEqual({ kind: 'none' });
  });

  it('fails at once while Redis is down (no offline queue) and reconnects when it returns on the same port', async () => {
    await redis.stop();
    await expect(client.readStaple('t:staple:a', 100)).rejects.toThrow();
    await redis.restart();
    expect(await client.waitUntilReady(10_000)).toBe(true);
    expect(await client.readStaple('t:staple:a', 100)).toEqual({ kind: 'none' });
  }, 30_000);
}

const missing = missingRedisReason();
if (!missing) {
  describe('redis-client with a real redis-server', describeRealRedis);
} else if (process.env.CI === 'true') {
  describe('redis-client with a real redis-server', () => {
    it('needs redis-server (CI=true)', () => {
      throw new Error(`${missing}: CI must install it (.ci/run)`);
    });
  });
} else {
  console.warn(`SKIPPED "redis-client with a real redis-server": ${missing}.`);
  describe.skip('redis-client with a real redis-server', describeRealRedis);
}
