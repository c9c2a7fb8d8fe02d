// `run` mode: the first pass, watching for new certificates, serialised passes and a clean stop.
import { describe, it, expect, beforeAll, afterEach } from '@jest/globals';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG, type StaplerdConfig } from '../../src/config/index.js';
import { StapleDaemon } from '../../src/daemon/index.js';
import { StaplerdError } from '../../src/errors/index.js';
import { createMemoryLogger } from '../../src/log/index.js';
import type { PassReport } from '../../src/pass/index.js';
import { askDaemon, chooseStatusSource, daemonSocketPath, describeWatchedCertificates, readStatusSnapshot, saveUndeliveredHookPaths, undeliveredHookPathsFilePath, type StatusSource } from '../../src/state/index.js';
import { createHookRecorder } from '../hooks/hook-recorder.js';
import { FakeOcspHttp, ManualClock } from '../helpers/fake-http.js';
import { createTestPki, exists, makeTempDir, removeTempDirsAfterAll, type TestPki } from '../helpers/test-pki.js';

const T0 = new Date('2031-03-01T12:00:00Z');
const OCSP_URL = 'http://127.0.0.1:9/ocsp';
/** Midnight on 1 January: the safety-net sweep never fires during a test run. */
const SWEEP_NEVER = '0 0 1 1 *';
const POLL_LIMIT_MS = 10_000;

let pki: TestPki;
const dirs = removeTempDirsAfterAll();
const daemons: StapleDaemon[] = [];

beforeAll(async () => {
  pki = await createTestPki({ now: T0 });
});

afterEach(async () => {
  // A failed assertion must not leave a watcher holding the process open.
  await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
});

interface DaemonFixture {
  daemon: StapleDaemon;
  dir: string;
  /** Its own state dir: a daemon test never touches /var/lib/staplerd (root's default). */
  stateDir: string;
  config: StaplerdConfig;
  clock: ManualClock;
  http: FakeOcspHttp;
  logger: ReturnType<typeof createMemoryLogger>;
  passes: { reason: string; report: PassReport }[];
}

async function createDaemon(overrides: Partial<StaplerdConfig> = {}): Promise<DaemonFixture> {
  const dir = await makeTempDir();
  const stateDir = await makeTempDir('staplerd-daemon-state-');
  dirs.push(dir, stateDir);
  const clock = new ManualClock(T0);
  const http = new FakeOcspHttp(pki.authority, clock);
  const logger = createMemoryLogger();
  const passes: DaemonFixture['passes'] = [];
  const config: StaplerdConfig = { ...DEFAULT_CONFIG, certs: [dir], stateDir, sweep: SWEEP_NEVER, watchDebounceMs: 50, ...overrides };
  const daemon = new StapleDaemon(config, { clock, random: () => 0.5, logger, http }, { onPass: (report, reason) => passes.push({ reason, report }) });
  daemons.push(daemon);
  return { daemon, dir, stateDir, config, clock, http, logger, passes };
}

/** Waits (polling, no fixed sleeps in assertions) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Lets pending callbacks and I/O run a few times, to observe that something did NOT happen yet. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('StapleDaemon', () => {
  it('runs the first pass before start() resolves, then reports ready', async () => {
    const fx = await createDaemon();
    const { certFile } = await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain');
    await fx.daemon.start();
    expect(fx.passes.map((p) => p.reason)).toEqual(['start']);
    expect(fx.passes[0]!.report.outcomes.map((o) => o.kind)).toEqual(['written']);
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
    const events = fx.logger.events.map((e) => e.event);
    expect(events.indexOf('daemon.ready')).toBeGreaterThan(events.indexOf('pass.finished'));
  });

  it('runs a pass when a new certificate file appears', async () => {
    const fx = await createDaemon();
    await fx.daemon.start();
    expect(fx.passes[0]!.report.outcomes).toEqual([]);
    const { certFile } = await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain', 'new');
    await until(() => fx.passes.some((p) => p.reason === 'watch' && p.report.outcomes.some((o) => o.kind === 'written')), 'a watch pass that writes');
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
    expect(fx.logger.events.some((e) => e.event === 'cert.changed' && e.fields.file === certFile)).toBe(true);
  });

  it('watches while the first pass runs: a certificate renewed during it brings a second pass, not the sweep', async () => {
    const fx = await createDaemon();
    const leaf = await pki.issueLeaf({ ocspUrls: [OCSP_URL] });
    const { certFile } = await pki.writeLeaf(fx.dir, leaf, 'fullchain');
    const pem = await readFile(certFile);
    const release = fx.http.hold();
    const starting = fx.daemon.start();
    await until(() => fx.http.waitingCount > 0, 'the first pass waiting on its fetch');
    // certbot renews while the first pass still fetches. The watch's initial scan ignores what is already there, so
    // the file is rewritten until the watch reports it (a watch started only after the pass never can).
    const changed = (): boolean => fx.logger.events.some((e) => e.event === 'cert.changed' && e.fields.file === certFile);
    try {
      // Paced beyond the 50 ms settle time, so each write can be reported.
      for (const deadline = Date.now() + POLL_LIMIT_MS; !changed() && Date.now() < deadline; ) {
        await writeFile(certFile, pem);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      expect(changed()).toBe(true);
    } finally {
      release();
    }
    await starting;
    await until(() => fx.passes.some((p) => p.reason === 'watch'), 'a watch pass after the first one');
    expect(fx.passes.map((p) => p.reason).slice(0, 2)).toEqual(['start', 'watch']);
  });

  it('leaves no watch behind when stopped while it still loads its state', async () => {
    const fx = await createDaemon();
    const watches = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'FSEventWrap').length;
    const before = watches();
    const starting = fx.daemon.start();
    await fx.daemon.stop();
    await starting;
    expect(watches()).toBe(before);
    expect(fx.logger.events.some((e) => e.event === 'daemon.ready')).toBe(false);
  });

  it('keeps running with a --certs path below a regular file: each pass reports it, the other directory is watched', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const notADirectory = path.join(dir, 'site.pem');
    await writeFile(notADirectory, 'not a directory');
    const fx = await createDaemon();
    await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain');
    // A path below a file: stat fails with ENOTDIR. The daemon died of it at start (INTERNAL) before session 7.
    const below = path.join(notADirectory, 'x');
    await fx.daemon.reload({ ...fx.config, certs: [fx.dir, below] }, { clock: fx.clock, random: () => 0.5, logger: fx.logger, http: fx.http });
    await fx.daemon.start();
    const first = fx.passes[0]!.report.outcomes;
    expect(first.map((o) => [o.kind, o.code])).toEqual([['failed', 'DIRECTORY_UNREADABLE'], ['written', undefined]]);
    expect(first[0]!.certFiles).toEqual([below]);
    const { certFile } = await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain', 'new');
    await until(() => fx.passes.some((p) => p.reason === 'watch'), 'a watch pass for the new certificate');
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
  });

  it('runs a pass on the cron sweep schedule, the safety net beside file events', async () => {
    // node-cron's six-field form: every second.
    const fx = await createDaemon({ sweep: '* * * * * *' });
    await fx.daemon.start();
    await until(() => fx.passes.some((p) => p.reason === 'sweep'), 'a sweep pass');
    expect(fx.passes[0]!.reason).toBe('start');
  });

  it('reads a certificate written in several steps only after it settles, never half-written', async () => {
    const fx = await createDaemon({ watchDebounceMs: 400 });
    await fx.daemon.start();
    const source = await makeTempDir();
    dirs.push(source);
    const { certFile: staged } = await pki.writeLeaf(source, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain', 'staged');
    const pem = await readFile(staged);
    const target = path.join(fx.dir, 'staged.pem');
    // A slow copy: the first half, a pause shorter than the settle time, then the rest.
    await writeFile(target, pem.subarray(0, pem.length / 2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await appendFile(target, pem.subarray(pem.length / 2));
    await until(() => fx.passes.some((p) => p.reason === 'watch' && p.report.outcomes.some((o) => o.kind === 'written')), 'a watch pass that writes');
    expect(fx.logger.events.filter((e) => e.event === 'cert.invalid')).toEqual([]);
    expect(await exists(`${target}.ocsp`)).toBe(true);
  });

  it('does not react to its own staple writes', async () => {
    const fx = await createDaemon({ force: true });
    await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain');
    await fx.daemon.start();
    // Force a write after the watch is in place: the new .ocsp file and its temp file must not trigger a pass.
    fx.http.answerTimes = { thisUpdate: T0 };
    fx.daemon.requestPass('manual');
    await fx.daemon.idle();
    expect(fx.passes[1]?.report.outcomes.map((o) => o.kind)).toEqual(['written']);
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the 50 ms write-settle time
    expect(fx.passes.map((p) => p.reason)).toEqual(['start', 'manual']);
  });

  it('stop() waits for the running pass to finish', async () => {
    const fx = await createDaemon({ force: true });
    await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain');
    await fx.daemon.start();
    const release = fx.http.hold();
    fx.daemon.requestPass('manual');
    await until(() => fx.http.waitingCount === 1, 'the held request');
    let stopped = false;
    const stopping = fx.daemon.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(fx.passes.map((p) => p.reason)).toEqual(['start', 'manual']);
    const events = fx.logger.events.map((e) => e.event);
    expect(events.lastIndexOf('pass.finished')).toBeLessThan(events.indexOf('daemon.stopped'));
  });

  it('coalesces pass requests made during a pass into one extra pass', async () => {
    const fx = await createDaemon({ force: true });
    await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain');
    await fx.daemon.start();
    const release = fx.http.hold();
    fx.daemon.requestPass('first');
    await until(() => fx.http.waitingCount === 1, 'the held request');
    fx.daemon.requestPass('second');
    fx.daemon.requestPass('third');
    fx.daemon.requestPass('fourth');
    release();
    await fx.daemon.idle();
    expect(fx.passes.map((p) => p.reason)).toEqual(['start', 'first', 'fourth']);
  });

  it('wakes up for a pass when the next staple is due', async () => {
    const fx = await createDaemon();
    await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain');
    // A 24 h staple whose halfway point is 1 s after T0: the daemon's timer fires after its 1 s minimum.
    const thisUpdate = new Date(T0.getTime() - 12 * 60 * 60_000 + 1000);
    fx.http.answerTimes = { thisUpdate };
    await fx.daemon.start();
    expect(fx.passes[0]!.report.outcomes[0]!.nextActionAt).toEqual(new Date(T0.getTime() + 1000));
    fx.http.answerTimes = undefined;
    fx.clock.advance(2000);
    // Polls for a written outcome: on a slow machine the timer may fire once before the clock above moved.
    await until(() => fx.passes.some((p) => p.reason === 'due' && p.report.outcomes[0]?.kind === 'written'), 'the due pass');
    expect(fx.passes.filter((p) => p.reason !== 'due').map((p) => p.reason)).toEqual(['start']);
  });

  it('rescans the new certificate directories after reload', async () => {
    const fx = await createDaemon();
    await fx.daemon.start();
    const other = await makeTempDir();
    dirs.push(other);
    const { certFile } = await pki.writeLeaf(other, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain');
    const deps = { clock: fx.clock, random: () => 0.5, logger: fx.logger, http: fx.http };
    await fx.daemon.reload({ ...fx.config, certs: [other] }, deps);
    await fx.daemon.idle();
    const reload = fx.passes.find((p) => p.reason === 'reload');
    expect(reload?.report.outcomes.map((o) => o.certFiles)).toEqual([[certFile]]);
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
  });

  it('keeps running when a pass throws, and logs pass.failed', async () => {
    const fx = await createDaemon();
    let calls = 0;
    // The first reading of the clock (the start of the first pass) throws: the pass fails as a whole.
    const clock = {
      now: () => {
        calls += 1;
        if (calls === 1) throw new Error('clock unavailable');
        return fx.clock.now();
      },
    };
    const daemon = new StapleDaemon(
      fx.config,
      { clock, random: () => 0.5, logger: fx.logger, http: fx.http },
      { onPass: (report, reason) => fx.passes.push({ reason, report }) },
    );
    daemons.push(daemon);
    await daemon.start();
    expect(fx.passes).toEqual([]);
    expect(fx.logger.events.find((e) => e.event === 'pass.failed')).toMatchObject({ level: 'error', message: expect.stringMatching(/^clock unavailable; retrying at /) });
    expect(fx.logger.events.some((e) => e.event === 'daemon.ready')).toBe(true);
    daemon.requestPass('manual');
    await daemon.idle();
    expect(fx.passes.map((p) => p.reason)).toEqual(['manual']);
  });

  it.each([
    { thrown: () => new Error('clock unavailable'), code: 'INTERNAL', retryAt: new Date(T0.getTime() + 45_000) },
    { thrown: () => new StaplerdError('CONFIG_INVALID', 'clock misconfigured'), code: 'CONFIG_INVALID', retryAt: undefined },
  ])('after a failed pass with $code, plans the retry its code allows', async ({ thrown, code, retryAt }) => {
    const fx = await createDaemon();
    let calls = 0;
    const clock = {
      now: () => {
        calls += 1;
        if (calls === 1) throw thrown();
        return fx.clock.now();
      },
    };
    const daemon = new StapleDaemon(fx.config, { clock, random: () => 0.5, logger: fx.logger, http: fx.http });
    daemons.push(daemon);
    await daemon.start();
    const failed = fx.logger.events.find((e) => e.event === 'pass.failed');
    expect(failed?.fields).toMatchObject({ code, retryAt, consecutiveFailures: 1 });
    expect(failed?.message).toMatch(retryAt ? /retrying at 2031-03-01T12:00:45/ : /no retry timer/);
  });

  it('hands its first update hook the paths an earlier run failed to deliver (state dir), then clears them', async () => {
    const fx = await createDaemon();
    const { certFile } = await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain');
    const owed = path.join(fx.dir, 'earlier.pem.ocsp');
    await saveUndeliveredHookPaths(fx.stateDir, [owed]);
    const recorder = await createHookRecorder(fx.dir, 'daemon-update');
    const daemon = new StapleDaemon({ ...fx.config, onUpdate: recorder.command().split(' ') }, { clock: fx.clock, random: () => 0.5, logger: fx.logger, http: fx.http });
    daemons.push(daemon);

    await daemon.start();
    await until(() => fx.logger.events.some((e) => e.event === 'hook.update'), 'the update hook');

    expect((await recorder.runs()).map((run) => run.changedFileEntries)).toEqual([[`${certFile}.ocsp`, owed].sort()]);
    await until(() => !existsSync(undeliveredHookPathsFilePath(fx.stateDir)), 'the owed list to be cleared');
  });

  it('starts no pass after stop()', async () => {
    const fx = await createDaemon();
    await fx.daemon.start();
    await fx.daemon.stop();
    fx.daemon.requestPass('late');
    await fx.daemon.idle();
    expect(fx.passes.map((p) => p.reason)).toEqual(['start']);
  });

  it('refuses to start with an invalid sweep expression', async () => {
    const fx = await createDaemon({ sweep: '61 * * * *' });
    await expect(fx.daemon.start()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(fx.passes).toEqual([]);
  });
});

describe('StapleDaemon and staplerd status', () => {
  /** What `status` concludes for `config` on the daemon's state dir. */
  async function judge(stateDir: string, config: StaplerdConfig): Promise<StatusSource> {
    const snapshot = await readStatusSnapshot(stateDir);
    const daemon = await askDaemon(stateDir, { timeoutMs: 2_000 });
    return chooseStatusSource({ snapshot, daemon, wanted: describeWatchedCertificates(config) });
  }

  it('vouches for its snapshot on the state dir socket while running, and no longer once stopped', async () => {
    const fx = await createDaemon();
    await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain');
    await fx.daemon.start();
    expect(await judge(fx.stateDir, fx.config)).toEqual({ source: 'daemon' });
    expect((await readStatusSnapshot(fx.stateDir))?.certificates).toHaveLength(1);

    await fx.daemon.stop();
    expect(await judge(fx.stateDir, fx.config)).toEqual({ source: 'files', reason: 'no-daemon' });
    expect(await exists(daemonSocketPath(fx.stateDir))).toBe(false);
  });

  it('is not vouched for by a snapshot that names it but another certificate directory', async () => {
    const fx = await createDaemon();
    await fx.daemon.start();
    const other = await makeTempDir();
    dirs.push(other);
    expect(await judge(fx.stateDir, { ...fx.config, certs: [other] })).toEqual({ source: 'files', reason: 'other-certificates', daemonPid: process.pid });
  });

  it('moves its socket to the new state dir on reload, and its snapshot with it', async () => {
    const fx = await createDaemon();
    await fx.daemon.start();
    const movedTo = await makeTempDir('staplerd-daemon-state-');
    dirs.push(movedTo);
    const moved = { ...fx.config, stateDir: movedTo };
    await fx.daemon.reload(moved, { clock: fx.clock, random: () => 0.5, logger: fx.logger, http: fx.http });
    await fx.daemon.idle();
    expect(await judge(movedTo, moved)).toEqual({ source: 'daemon' });
    expect(await askDaemon(fx.stateDir, { timeoutMs: 2_000 })).toBeUndefined();
  });

  it('keeps running when the socket cannot be opened, logging STATUS_SOCKET_FAILED naming it', async () => {
    const fx = await createDaemon();
    // A directory where the socket goes: not the daemon's to remove.
    await mkdir(daemonSocketPath(fx.stateDir));
    await fx.daemon.start();
    expect(fx.logger.events.find((e) => e.event === 'status.socket_failed')).toMatchObject({ level: 'warn', fields: { code: 'STATUS_SOCKET_FAILED', file: daemonSocketPath(fx.stateDir) } });
    expect(fx.logger.events.some((e) => e.event === 'daemon.ready')).toBe(true);
    expect(await judge(fx.stateDir, fx.config)).toEqual({ source: 'files', reason: 'no-daemon' });
  });
});
