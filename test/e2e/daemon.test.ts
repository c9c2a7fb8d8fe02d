// End to end: `staplerd run` (the built binary as a child process): initial pass, watching, SIGHUP reload, SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon, type DaemonProcess } from '../helpers/run-cli.js';
import { closedPortUrl, createE2eFixture, exists, listTempFiles, verifyWithOpenssl, waitFor, type E2eFixture } from './e2e-fixture.js';

let fx: E2eFixture;
let daemon: DaemonProcess | undefined;
let firstDir: string;
let secondDir: string;
let configFile: string;
let initialFile: string;
let mustStapleFile: string;

/** The config file as the operator edits it; watchDebounce kept short so the test does not idle. */
function writeConfig(dirs: readonly string[]): Promise<void> {
  return writeFile(configFile, [`certs: [${dirs.map((d) => JSON.stringify(d)).join(', ')}]`, 'logFormat: json', 'watchDebounce: 0.2', ''].join('\n'));
}

function logEvents(): Record<string, unknown>[] {
  return daemon!
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function parseJsonLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function expectGoodStaple(certFile: string, leafRef: string): Promise<void> {
  const verdict = await verifyWithOpenssl(`${certFile}.ocsp`, leafRef, fx);
  expect({ certFile, verified: verdict.verified, status: verdict.status }).toEqual({ certFile, verified: true, status: 'good' });
}

let initialRef: string;

beforeAll(async () => {
  fx = await createE2eFixture();
  firstDir = await fx.makeDir('daemon/first');
  secondDir = await fx.makeDir('daemon/second');
  configFile = path.join(fx.root, 'daemon', 'staplerd.yaml');
  const initial = await fx.issueLeaf({ commonName: 'initial.test' });
  initialFile = (await fx.pki.writeLeaf(firstDir, initial, 'fullchain', 'initial')).certFile;
  initialRef = await fx.writeReferencePem(initial);
  // A must-staple certificate whose responder is down: its failure must be logged at error, not warn.
  const mustStaple = await fx.issueLeaf({ commonName: 'must-staple.test', mustStaple: true, ocspUrls: [await closedPortUrl()] });
  mustStapleFile = (await fx.pki.writeLeaf(firstDir, mustStaple, 'fullchain', 'must-staple')).certFile;
  await writeConfig([firstDir]);
  daemon = startDaemon(['--config', configFile], { env: fx.env });
  await daemon.waitForLog('"daemon.ready"', 20_000);
});

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) await daemon.stop('SIGKILL');
  await fx?.close();
});

// One daemon for the whole file: the tests are its life story, in order (start, watch, reload, stop, log review).
describe('staplerd run', () => {
  it('writes staples in its initial pass, then logs daemon.ready', async () => {
    await expectGoodStaple(initialFile, initialRef);
    const events = logEvents().map((e) => e.event);
    expect(events.indexOf('staple.written')).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('staple.written')).toBeLessThan(events.indexOf('daemon.ready'));
  });

  it('logs the failure of a must-staple certificate at error level', () => {
    const failure = logEvents().find((e) => e.event === 'fetch.failed' && e.file === mustStapleFile);
    expect(failure).toMatchObject({ level: 'error', code: 'FETCH_NETWORK' });
  });

  it('staples a certificate file dropped into a watched directory', async () => {
    const leaf = await fx.issueLeaf({ commonName: 'dropped.test' });
    const { certFile } = await fx.pki.writeLeaf(firstDir, leaf, 'fullchain', 'dropped');
    await waitFor(() => exists(`${certFile}.ocsp`), `${certFile}.ocsp`);
    await expectGoodStaple(certFile, await fx.writeReferencePem(leaf));
  });

  it('picks up a second certificate directory from the changed configuration file on SIGHUP', async () => {
    const leaf = await fx.issueLeaf({ commonName: 'second-dir.test' });
    const { certFile } = await fx.pki.writeLeaf(secondDir, leaf, 'fullchain', 'second');
    await writeConfig([firstDir, secondDir]);
    const mark = daemon!.output().length;

    daemon!.child.kill('SIGHUP');

    await daemon!.waitForLog('"daemon.reloaded"', 20_000, mark);
    await waitFor(() => exists(`${certFile}.ocsp`), `${certFile}.ocsp`);
    await expectGoodStaple(certFile, await fx.writeReferencePem(leaf));
  });

  it('keeps running with the old configuration when the changed file is invalid YAML', async () => {
    await writeFile(configFile, `certs: [${JSON.stringify(firstDir)}]\nfrobnicate: 1\n`);
    const mark = daemon!.output().length;

    daemon!.child.kill('SIGHUP');

    await daemon!.waitForLog('"daemon.reload_failed"', 20_000, mark);
    const failure = logEvents().find((e) => e.event === 'daemon.reload_failed');
    expect(failure).toMatchObject({ level: 'error', code: 'CONFIG_INVALID', file: configFile });
    // Still watching the old directories.
    const leaf = await fx.issueLeaf({ commonName: 'after-bad-reload.test' });
    const { certFile } = await fx.pki.writeLeaf(secondDir, leaf, 'fullchain', 'after-bad-reload');
    await waitFor(() => exists(`${certFile}.ocsp`), `${certFile}.ocsp`);
  });

  it('keeps its running configuration, logger included, when the daemon refuses a reloaded configuration', async () => {
    // Valid YAML, but a sweep node-cron refuses (minute 61): the daemon rejects it after the file was read.
    await writeFile(configFile, [`certs: [${JSON.stringify(firstDir)}]`, 'logFormat: text', 'sweep: "61 * * * *"', ''].join('\n'));
    const mark = daemon!.output().length;

    daemon!.child.kill('SIGHUP');

    // Logged by the running (JSON) logger, not by one built from the refused configuration.
    await daemon!.waitForLog('"daemon.reload_failed"', 20_000, mark);
    const leaf = await fx.issueLeaf({ commonName: 'after-refused-reload.test' });
    const { certFile } = await fx.pki.writeLeaf(secondDir, leaf, 'fullchain', 'after-refused-reload');
    await waitFor(() => exists(`${certFile}.ocsp`), `${certFile}.ocsp`);
    expect(() => logEvents()).not.toThrow();
  });

  it('exits 0 on SIGTERM and leaves no temp files', async () => {
    // Work in flight when the signal comes: several new certificates being fetched and written.
    const leaves = await Promise.all([1, 2, 3, 4, 5].map((n) => fx.issueLeaf({ commonName: `late-${n}.test` })));
    const mark = daemon!.output().length;
    const lateFiles: [string, string][] = [];
    for (const [index, leaf] of leaves.entries()) {
      const { certFile } = await fx.pki.writeLeaf(firstDir, leaf, 'fullchain', `late-${index}`);
      lateFiles.push([certFile, await fx.writeReferencePem(leaf)]);
    }
    await daemon!.waitForLog(/^(?=.*"cert\.changed")(?=.*late-).*$/m, 20_000, mark);

    const { code, signal } = await daemon!.stop('SIGTERM');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(logEvents().some((e) => e.event === 'daemon.stopped')).toBe(true);
    expect(await listTempFiles(path.join(fx.root, 'daemon'))).toEqual([]);
    const stateDir = fx.env.STATE_DIRECTORY!;
    if (await exists(stateDir)) expect(await listTempFiles(stateDir)).toEqual([]);
    // Whatever was written before the stop is a complete, valid staple.
    for (const [certFile, leafRef] of lateFiles) if (await exists(`${certFile}.ocsp`)) await expectGoodStaple(certFile, leafRef);
  });

  it('logged only JSON lines carrying their event name, from start to stop, with --log-format json', () => {
    const lines = daemon!.output().split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) {
      const parsed = parseJsonLine(line);
      // Event names are dotted (docs/configuration.md "Log events"): a field must never clobber them.
      expect({ line, event: /^[a-z_]+\.[a-z_]+$/.test(String(parsed?.event)) }).toEqual({ line, event: true });
    }
  });
});
