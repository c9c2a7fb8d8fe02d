// The history file: what survives a restart, what is forgotten, and a corrupt file rebuilt rather than fatal.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import type { HistoryStore } from '../../src/pass/index.js';
import {
  describeWatchedCertificates,
  FORGET_UNSEEN_AFTER_MS,
  historyFilePath,
  loadHistory,
  readStatusSnapshot,
  saveHistory,
  saveStatusSnapshot,
  statusFilePath,
} from '../../src/state/index.js';
import type { StaplerdError } from '../../src/errors/index.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';

const T0 = new Date('2026-11-27T12:00:00Z');
const DAY_MS = 24 * 60 * 60_000;
let stateDir: string;

beforeEach(async () => {
  stateDir = await makeTempDir('staplerd-state-test-');
});

afterEach(async () => {
  await removeTempDir(stateDir);
});

function failing(nextAttemptAt: Date): HistoryStore {
  return new Map([['aa', { consecutiveFailures: 2, nextAttemptAt, lastErrorCode: 'FETCH_TIMEOUT', lastErrorMessage: 'slow', staleAnswers: 3 }]]);
}

async function reload(): Promise<{ history: HistoryStore; corrupt: StaplerdError[] }> {
  const corrupt: StaplerdError[] = [];
  const history = await loadHistory(stateDir, (error) => corrupt.push(error));
  return { history, corrupt };
}

describe('history.json', () => {
  it('brings back backoff, last error and stale-answer count exactly after a restart', async () => {
    const nextAttemptAt = new Date(T0.getTime() + 120_000);
    await saveHistory(stateDir, failing(nextAttemptAt), new Set(['aa']), T0);
    const { history, corrupt } = await reload();
    expect(corrupt).toEqual([]);
    expect(history.get('aa')).toEqual({
      consecutiveFailures: 2,
      nextAttemptAt,
      lastErrorCode: 'FETCH_TIMEOUT',
      lastErrorMessage: 'slow',
      staleAnswers: 3,
      lastSeenAt: T0,
      refreshAt: undefined,
      refreshForThisUpdateMs: undefined,
    });
  });

  it('keeps a certificate this pass did not see, until it has been unseen for 30 days', async () => {
    await saveHistory(stateDir, failing(T0), new Set(['aa']), T0);
    let { history } = await reload();
    await saveHistory(stateDir, history, new Set(['other']), new Date(T0.getTime() + FORGET_UNSEEN_AFTER_MS));
    ({ history } = await reload());
    expect(history.has('aa')).toBe(true);
    await saveHistory(stateDir, history, new Set(['other']), new Date(T0.getTime() + FORGET_UNSEEN_AFTER_MS + DAY_MS));
    ({ history } = await reload());
    expect(history.has('aa')).toBe(false);
  });

  it('reports a corrupt file as STATE_CORRUPT naming it, and starts from an empty history', async () => {
    await writeFile(historyFilePath(stateDir), '{"version":1,"certificates":');
    const { history, corrupt } = await reload();
    expect(history.size).toBe(0);
    expect(corrupt.map((e) => [e.code, e.file])).toEqual([['STATE_CORRUPT', historyFilePath(stateDir)]]);
  });

  it('reports a FIFO in place of the history as STATE_CORRUPT (refused, rebuilt) instead of waiting for a writer', async () => {
    execFileSync('mkfifo', [historyFilePath(stateDir)]);
    const { history, corrupt } = await reload();
    expect(history.size).toBe(0);
    expect(corrupt.map((e) => [e.code, e.file, e.message.includes('not a regular file')])).toEqual([['STATE_CORRUPT', historyFilePath(stateDir), true]]);
  });

  it('reports a history linked to /dev/zero as STATE_CORRUPT (refused, rebuilt) instead of reading forever', async () => {
    await symlink('/dev/zero', historyFilePath(stateDir));
    const { corrupt } = await reload();
    expect(corrupt.map((e) => e.code)).toEqual(['STATE_CORRUPT']);
  });

  it('treats a missing file as a first start, silently', async () => {
    const { history, corrupt } = await reload();
    expect([history.size, corrupt.length]).toEqual([0, 0]);
  });

  it('writes a file that a reader can parse at any time (one JSON document)', async () => {
    await saveHistory(stateDir, failing(T0), new Set(['aa']), T0);
    const parsed = JSON.parse(await readFile(historyFilePath(stateDir), 'utf8')) as { version: number; savedAt: string };
    expect([parsed.version, parsed.savedAt]).toEqual([1, T0.toISOString()]);
  });
});

describe('status.json', () => {
  const watched = describeWatchedCertificates({ certs: ['/srv/b', '/srv/a'], out: '/srv/out', extensions: ['.pem'] });

  it('brings back who wrote it (pid, instance id, watched certificates) with the rows', async () => {
    await saveStatusSnapshot(stateDir, [], { pid: 812, instanceId: 'run-1', watched }, T0);
    expect(await readStatusSnapshot(stateDir)).toMatchObject({ pid: 812, instanceId: 'run-1', watched: { certs: ['/srv/a', '/srv/b'], out: '/srv/out', extensions: ['.pem'] }, updatedAt: T0.toISOString(), certificates: [] });
  });

  it('reads a snapshot without or with a malformed origin as naming no instance and no certificates', async () => {
    await writeFile(statusFilePath(stateDir), JSON.stringify({ version: 1, pid: 812, updatedAt: T0.toISOString(), certificates: [], watched: { certs: '/srv/a' } }));
    const snapshot = await readStatusSnapshot(stateDir);
    expect(snapshot).toMatchObject({ pid: 812, certificates: [] });
    expect([snapshot?.instanceId, snapshot?.watched]).toEqual([undefined, undefined]);
  });
});

