// End to end: the backoff history in the state dir survives restarts during a responder outage (no burst of requests
// from the next run), and a corrupt history file is rebuilt instead of stopping staplerd.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startOcspResponder, type RunningResponder } from '../../src/demo/ocsp-responder.js';
import { runCli, startDaemon } from '../helpers/run-cli.js';
import { createE2eFixture, exists, expectExitCode, jsonEvents, type E2eFixture } from './e2e-fixture.js';

let fx: E2eFixture;
/** Answers every request with HTTP 500: the outage. */
let outage: RunningResponder;

interface SavedHistory {
  version: number;
  certificates: Record<string, { consecutiveFailures: number; nextAttemptAt?: string; lastErrorCode?: string }>;
}

beforeAll(async () => {
  fx = await createE2eFixture();
  outage = await startOcspResponder({ authority: fx.pki.authority });
  outage.setFault('http-500');
});

afterAll(async () => {
  await outage?.close();
  await fx?.close();
});

/** A directory with `count` certificates whose responder is the failing one. */
async function certsDuringOutage(name: string, count: number): Promise<string> {
  const dir = await fx.makeDir(`${name}/certs`);
  for (let n = 1; n <= count; n++) {
    await fx.pki.writeLeaf(dir, await fx.issueLeaf({ commonName: `${name}-${n}.test`, ocspUrls: [outage.url] }), 'fullchain', `site-${n}`);
  }
  return dir;
}

async function readHistory(stateDir: string): Promise<SavedHistory> {
  return JSON.parse(await readFile(path.join(stateDir, 'history.json'), 'utf8')) as SavedHistory;
}

describe('the backoff history across restarts during an outage', () => {
  it('makes a second once with the same state dir send no request while the backoff runs', async () => {
    const certs = await certsDuringOutage('once-twice', 3);
    const stateDir = path.join(fx.root, 'once-twice', 'state');
    const before = outage.requestCount;

    const first = await fx.once(['--certs', certs, '--state-dir', stateDir]);
    expectExitCode(first, 1);
    const afterFirst = outage.requestCount;
    // GET answered 500, then the POST fallback: two requests per certificate.
    expect(afterFirst - before).toBe(6);
    const saved = await readHistory(stateDir);
    expect(Object.values(saved.certificates)).toHaveLength(3);
    for (const entry of Object.values(saved.certificates)) {
      expect(entry).toMatchObject({ consecutiveFailures: 1, lastErrorCode: 'FETCH_HTTP_STATUS' });
      expect(Date.parse(entry.nextAttemptAt!)).toBeGreaterThan(Date.now());
    }

    const second = await fx.once(['--certs', certs, '--state-dir', stateDir]);

    // Still no staple, so still a failure, but the responder heard nothing.
    expectExitCode(second, 1);
    expect(outage.requestCount).toBe(afterFirst);
    expect(second.stdout).toMatch(/3 backing-off/);
  });

  it('keeps the backoff of certificates another once job (other --certs, same state dir) did not look at', async () => {
    const jobA = await certsDuringOutage('two-jobs-a', 1);
    const jobB = await certsDuringOutage('two-jobs-b', 1);
    const stateDir = path.join(fx.root, 'two-jobs', 'state');
    expectExitCode(await fx.once(['--certs', jobA, '--state-dir', stateDir]), 1);
    expectExitCode(await fx.once(['--certs', jobB, '--state-dir', stateDir]), 1);
    expect(Object.values((await readHistory(stateDir)).certificates)).toHaveLength(2);
    const before = outage.requestCount;

    const againA = await fx.once(['--certs', jobA, '--state-dir', stateDir]);

    expectExitCode(againA, 1);
    expect(outage.requestCount).toBe(before);
    expect(againA.stdout).toMatch(/1 backing-off/);
  });

  it('makes a restarted daemon wait out the backoff its predecessor started', async () => {
    const certs = await certsDuringOutage('daemon-restart', 2);
    const env = { STATE_DIRECTORY: path.join(fx.root, 'daemon-restart', 'state') };
    const before = outage.requestCount;

    const first = startDaemon(['--certs', certs, '--log-format', 'json'], { env });
    await first.waitForLog('"daemon.ready"');
    const afterFirst = outage.requestCount;
    expect(afterFirst - before).toBe(4);
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const second = startDaemon(['--certs', certs, '--log-format', 'json'], { env });
    try {
      await second.waitForLog('"daemon.ready"');
      expect(outage.requestCount).toBe(afterFirst);
      const pass = jsonEvents(second.output()).find((e) => e.event === 'pass.finished');
      expect(pass).toMatchObject({ reason: 'start', 'backing-off': 2 });
    } finally {
      expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }

    // And `staplerd status` shows the streak the daemons kept.
    const status = await runCli(['status', '--certs', certs, '--json'], { env });
    expectExitCode(status, 0);
    const rows = (JSON.parse(status.stdout) as { certificates: { state: string; consecutiveFailures: number; lastErrorCode?: string }[] }).certificates;
    expect(rows.map((r) => [r.state, r.consecutiveFailures, r.lastErrorCode])).toEqual([
      ['failing', 1, 'FETCH_HTTP_STATUS'],
      ['failing', 1, 'FETCH_HTTP_STATUS'],
    ]);
  });
});

describe('a restart with fresh staples on disk', () => {
  it('makes a daemon with no history at all send zero requests: the staples on disk are validated and reused', async () => {
    const certs = await fx.makeDir('fresh-restart/certs');
    for (const name of ['a', 'b']) await fx.pki.writeLeaf(certs, await fx.issueLeaf({ commonName: `${name}.fresh.test` }), 'fullchain', name);
    expectExitCode(await fx.once(['--certs', certs, '--state-dir', path.join(fx.root, 'fresh-restart', 'state-once')]), 0);
    const before = fx.responder.requestCount;

    // A different, empty state dir: nothing remembered, only the files speak.
    const daemon = startDaemon(['--certs', certs, '--log-format', 'json'], { env: { STATE_DIRECTORY: path.join(fx.root, 'fresh-restart', 'state-daemon') } });
    await daemon.waitForLog('"daemon.ready"');
    expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    expect(fx.responder.requestCount).toBe(before);
    expect(jsonEvents(daemon.output()).filter((e) => e.event === 'staple.written')).toEqual([]);
  });
});

describe('a corrupt history file', () => {
  it('is reported as STATE_CORRUPT and rebuilt by once, which still staples and exits 0', async () => {
    const certs = await fx.makeDir('corrupt-once/certs');
    const leaf = await fx.issueLeaf({ commonName: 'corrupt-once.test' });
    const { certFile } = await fx.pki.writeLeaf(certs, leaf, 'fullchain', 'site');
    const stateDir = await fx.makeDir('corrupt-once/state');
    await writeFile(path.join(stateDir, 'history.json'), '{"version": 1, "certificates": {"trunc');

    const result = await fx.once(['--certs', certs, '--state-dir', stateDir, '--log-format', 'json']);

    expectExitCode(result, 0);
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
    const corrupt = jsonEvents(result.stderr).find((e) => e.event === 'state.corrupt');
    expect(corrupt).toMatchObject({ level: 'warn', code: 'STATE_CORRUPT', file: path.join(stateDir, 'history.json') });
    const rebuilt = await readHistory(stateDir);
    expect(rebuilt.version).toBe(1);
    expect(Object.values(rebuilt.certificates)).toEqual([expect.objectContaining({ consecutiveFailures: 0 })]);
  });

  it('does not stop the daemon, nor staplerd status', async () => {
    const certs = await fx.makeDir('corrupt-run/certs');
    const leaf = await fx.issueLeaf({ commonName: 'corrupt-run.test' });
    const { certFile } = await fx.pki.writeLeaf(certs, leaf, 'fullchain', 'site');
    const stateDir = await fx.makeDir('corrupt-run/state');
    await writeFile(path.join(stateDir, 'history.json'), 'not json at all\n');

    const status = await runCli(['status', '--certs', certs, '--state-dir', stateDir, '--json']);
    expectExitCode(status, 0);
    expect((JSON.parse(status.stdout) as { certificates: { state: string }[] }).certificates.map((r) => r.state)).toEqual(['missing']);

    const daemon = startDaemon(['--certs', certs, '--state-dir', stateDir, '--log-format', 'json']);
    try {
      await daemon.waitForLog('"daemon.ready"');
      expect(jsonEvents(daemon.output()).find((e) => e.event === 'state.corrupt')).toMatchObject({ level: 'warn', code: 'STATE_CORRUPT' });
      expect(await exists(`${certFile}.ocsp`)).toBe(true);
    } finally {
      expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
    expect((await readHistory(stateDir)).version).toBe(1);
  });
});
