// Shared directory fsync (group commit): callers whose change is complete join a sync that has not started yet, never
// one that may have started before their change.
import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncDirectoryShared, writeFileAtomic } from '../../src/output/atomic-write.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'staplerd-group-sync-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('syncDirectoryShared', () => {
  it('gives callers arriving before the sync starts the same sync, and later callers a new one', async () => {
    const first = syncDirectoryShared(dir);
    expect(syncDirectoryShared(dir)).toBe(first);
    await first;
    const later = syncDirectoryShared(dir);
    expect(later).not.toBe(first);
    await later;
  });

  it('queues a caller arriving while a sync runs behind it instead of joining it', async () => {
    const running = syncDirectoryShared(dir);
    // Let the queued sync start (it waits for nothing but a microtask when none is running).
    await Promise.resolve();
    await Promise.resolve();
    const next = syncDirectoryShared(dir);
    expect(next).not.toBe(running);
    const order: string[] = [];
    await Promise.all([running.then(() => order.push('running')), next.then(() => order.push('next'))]);
    expect(order).toEqual(['running', 'next']);
  });

  it('fails every joined caller when the directory cannot be synced', async () => {
    const missing = join(dir, 'absent');
    const results = await Promise.allSettled([syncDirectoryShared(missing), syncDirectoryShared(missing)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('writeFileAtomic under concurrency', () => {
  it('writes 200 files into one directory at once, each complete, with no temp file left', async () => {
    const names = Array.from({ length: 200 }, (_, index) => `site-${index}.pem.ocsp`);
    await Promise.all(names.map((name, index) => writeFileAtomic(join(dir, name), Buffer.alloc(300 + index, index % 256))));
    expect((await readdir(dir)).sort()).toEqual([...names].sort());
    for (const [index, name] of names.entries()) expect((await readFile(join(dir, name))).equals(Buffer.alloc(300 + index, index % 256))).toBe(true);
  });
});
