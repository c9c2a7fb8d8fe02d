// `staplerd run` and signals that arrive while a pass is running: SIGTERM stops it early, SIGHUP never breaks it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon, type DaemonProcess } from '../helpers/run-cli.js';
import { createE2eFixture, jsonEvents, listTempFiles, type E2eFixture } from './e2e-fixture.js';

/** Enough certificates that a pass against a hanging responder, one at a time, takes far longer than one timeout. */
const CERT_COUNT = 6;
/** Subtrees in the SIGHUP storm's certs dir: enough that setting up the watch again takes longer than the storm. */
const STORM_TREE_DIRS = 1000;

let fx: E2eFixture;
let certsDir: string;
let configFile: string;
let daemon: DaemonProcess | undefined;

beforeAll(async () => {
  fx = await createE2eFixture();
  certsDir = await fx.makeDir('certs');
  for (let i = 0; i < CERT_COUNT; i++) {
    const leaf = await fx.issueLeaf({ commonName: `slow-${i}.test` });
    await fx.pki.writeLeaf(certsDir, leaf, 'fullchain', `slow-${i}`);
  }
  configFile = path.join(fx.root, 'staplerd.yaml');
  // One certificate at a time, 2 s per attempt: the first pass needs CERT_COUNT timeouts when the responder hangs.
  await writeFile(configFile, [`certs: [${JSON.stringify(certsDir)}]`, 'logFormat: json', 'logLevel: debug', 'concurrency: 1', 'timeout: 2', ''].join('\n'));
});

afterEach(async () => {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) await daemon.stop('SIGKILL');
  daemon = undefined;
  fx.responder.setFault('none');
});

afterAll(async () => {
  await fx?.close();
});

describe('signals during a pass', () => {
  it('stops on SIGTERM during the first pass instead of finishing it, leaving no temp files', async () => {
    fx.responder.setFault('hang');
    daemon = startDaemon(['--config', configFile], { env: fx.env });
    await daemon.waitForLog('"fetch.failed"', 20_000);

    const exit = await daemon.stop('SIGTERM');

    expect(exit).toEqual({ code: 0, signal: null });
    const events = jsonEvents(daemon.output()).map((e) => e.event);
    // Stopped mid-pass: not every certificate was attempted, and the watch was never set up.
    expect(events.filter((e) => e === 'fetch.failed').length).toBeLessThan(CERT_COUNT);
    expect(events).not.toContain('daemon.ready');
    expect(events).toContain('daemon.stopped');
    expect(await listTempFiles(certsDir)).toEqual([]);
  });

  it('finishes a pass that a SIGHUP interrupted, with its log intact, and keeps a single watcher', async () => {
    fx.responder.setFault('hang');
    daemon = startDaemon(['--config', configFile], { env: fx.env });
    await daemon.waitForLog('"fetch.failed"', 20_000);
    daemon.child.kill('SIGHUP');
    await daemon.waitForLog('"daemon.reloaded"', 20_000);
    fx.responder.setFault('none');
    await daemon.waitForLog('"daemon.ready"', 60_000);

    const events = jsonEvents(daemon.output());
    // The old logger and HTTP client stayed open until the interrupted pass was over.
    expect(events.filter((e) => e.event === 'pass.failed')).toEqual([]);
    expect(daemon.output()).not.toMatch(/write after end/);
    // One watcher: a new certificate is reported once, not once per watcher.
    const mark = daemon.output().length;
    const late = await fx.issueLeaf({ commonName: 'late.test' });
    await fx.pki.writeLeaf(certsDir, late, 'fullchain', 'late');
    await daemon.waitForLog(/"staple\.written".*late\.pem\.ocsp|late\.pem\.ocsp.*"staple\.written"/, 20_000, mark);
    const changes = jsonEvents(daemon.output().slice(mark)).filter((e) => e.event === 'cert.changed' && String(e.file).includes('late.pem'));
    expect(changes.length).toBe(1);
    const exit = await daemon.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('handles two SIGHUPs in quick succession one after the other, leaving one watcher and a clean stop', async () => {
    daemon = startDaemon(['--config', configFile], { env: fx.env });
    await daemon.waitForLog('"daemon.ready"', 60_000);
    const mark = daemon.output().length;
    daemon.child.kill('SIGHUP');
    // Not at once: the kernel merges a signal still pending with the next one of its kind (signal(7)). 30 ms is far
    // shorter than a reload (config read, new logger and HTTP client, watcher closed and set up again).
    await new Promise((resolve) => setTimeout(resolve, 30));
    daemon.child.kill('SIGHUP');
    await daemon.waitForLog(/"daemon\.reloaded"[\s\S]*"daemon\.reloaded"/, 20_000, mark);
    const late = await fx.issueLeaf({ commonName: 'after-reloads.test' });
    await fx.pki.writeLeaf(certsDir, late, 'fullchain', 'after-reloads');
    // The watcher's event, then the pass it triggered: a second watcher's event would have come by then (same settle time).
    await daemon.waitForLog(/"cert\.changed".*after-reloads\.pem|after-reloads\.pem.*"cert\.changed"/, 20_000, mark);
    const changedAt = daemon.output().search(/[^\n]*"cert\.changed"[^\n]*after-reloads\.pem/);
    await daemon.waitForLog(/"pass\.finished"[^\n]*"reason":"watch"|"reason":"watch"[^\n]*"pass\.finished"/, 20_000, changedAt);

    const changes = jsonEvents(daemon.output().slice(mark)).filter((e) => e.event === 'cert.changed' && String(e.file).includes('after-reloads.pem'));
    expect(changes.length).toBe(1);
    expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

describe('a SIGHUP storm', () => {
  it('merges 200 SIGHUPs into at most a few reloads and still staples a certificate written right after', async () => {
    // Many directories make each reload (watch torn down and set up again) take a while, so the whole storm arrives
    // during the first one: every HUP that queued its own reload would keep the daemon busy for minutes.
    const tree = await fx.makeDir('storm-tree');
    await Promise.all(Array.from({ length: STORM_TREE_DIRS }, (_, i) => mkdir(path.join(tree, `d${i}`, 'sub'), { recursive: true })));
    const stormConfig = path.join(fx.root, 'storm.yaml');
    await writeFile(stormConfig, [`certs: [${JSON.stringify(certsDir)}, ${JSON.stringify(tree)}]`, 'logFormat: json', 'logLevel: debug', ''].join('\n'));
    daemon = startDaemon(['--config', stormConfig], { env: fx.env });
    await daemon.waitForLog('"daemon.ready"', 60_000);
    const mark = daemon.output().length;
    // One at a time, each after a timer turn, so the kernel does not merge them into one pending signal (signal(7)).
    for (let i = 0; i < 200; i++) {
      daemon.child.kill('SIGHUP');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await daemon.waitForLog('"daemon.reloaded"', 60_000, mark);
    const late = await fx.issueLeaf({ commonName: 'after-storm.test' });
    await fx.pki.writeLeaf(certsDir, late, 'fullchain', 'after-storm');
    await daemon.waitForLog(/"staple\.written".*after-storm\.pem\.ocsp|after-storm\.pem\.ocsp.*"staple\.written"/, 60_000, mark);
    expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    // The reload running when the storm began, one follow-up for everything that came during it, and at most one
    // more for HUPs that arrived after that follow-up had started.
    const reloads = jsonEvents(daemon.output().slice(mark)).filter((e) => e.event === 'daemon.reloaded');
    expect(reloads.length).toBeGreaterThanOrEqual(1);
    expect(reloads.length).toBeLessThanOrEqual(3);
  }, 180_000);
});
