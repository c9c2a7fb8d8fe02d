// The ioredis adapter against a real redis-server (and a real Sentinel) on free loopback ports: the Lua scripts (size cap, type check,
// never-older publish, compare-and-delete release) and a wedged (SIGSTOPped) or stopped Redis failing fast.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connectFleetRedis } from '../../src/fleet/redis-client.js';
import type { FleetRedis } from '../../src/fleet/fleet-redis.js';
import { describeIfAvailable } from '../helpers/describe-if-available.js';
import { missingRedisReason, REDIS_CLI_BIN, REDIS_SERVER_BIN, startRedisServer, type RunningRedis } from '../helpers/redis-server.js';
import { findFreePort } from '../helpers/servers.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';

function sentinelKnows(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(REDIS_CLI_BIN, ['-h', '127.0.0.1', '-p', String(port), 'SENTINEL', 'get-master-addr-by-name', 'fleet-primary'], (error, stdout) => resolve(!error && stdout.includes('127.0.0.1')));
  });
}

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

  it('finds the primary through a real Sentinel (redis-sentinel:// URL) and works against it', async () => {
    const sentinelPort = await findFreePort();
    const config = path.join(dir, 'sentinel.conf');
    // Sentinel rewrites its configuration file: it lives in the test's temp dir.
    await writeFile(config, `port ${sentinelPort}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor fleet-primary 127.0.0.1 ${redis.port} 1\n`);
    const sentinel = spawn(REDIS_SERVER_BIN, [config, '--sentinel'], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 10_000;
      while (!(await sentinelKnows(sentinelPort))) {
        if (Date.now() > deadline) throw new Error('redis sentinel did not start');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const viaSentinel = await connectFleetRedis({ url: `redis-sentinel://127.0.0.1:${sentinelPort}/fleet-primary`, commandTimeoutMs: 1000, onError: () => {} });
      try {
        expect(await viaSentinel.waitUntilReady(5_000)).toBe(true);
        expect(await viaSentinel.publishStaple('t:staple:sentinel', new Uint8Array([9]), 1, Date.now() + 60_000, false)).toBe(true);
        expect(await client.readStaple('t:staple:sentinel', 10)).toEqual({ kind: 'value', der: new Uint8Array([9]) });
      } finally {
        await viaSentinel.close();
      }
    } finally {
      sentinel.kill('SIGKILL');
    }
  }, 30_000);

  it('fails at once while Redis is down (no offline queue) and reconnects when it returns on the same port', async () => {
    await redis.stop();
    await expect(client.readStaple('t:staple:a', 100)).rejects.toThrow();
    await redis.restart();
    expect(await client.waitUntilReady(10_000)).toBe(true);
    expect(await client.readStaple('t:staple:a', 100)).toEqual({ kind: 'none' });
  }, 30_000);
}

describeIfAvailable('redis-client with a real redis-server', missingRedisReason(), { what: 'needs redis-server', remedy: 'CI must install it (.ci/run)' }, describeRealRedis);
