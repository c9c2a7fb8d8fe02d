// The units in systemd/: systemd accepts them, and the exact command lines they hold work with the built staplerd.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { createE2eFixture, exists, type E2eFixture } from '../e2e/e2e-fixture.js';
import { CLI_PATH, PROJECT_ROOT, runCli, startDaemon } from '../helpers/run-cli.js';

const UNIT_DIR = path.join(PROJECT_ROOT, 'systemd');
const INSTALLED_BINARY = '/usr/bin/staplerd';
const INSTALLED_CONFIG = '/etc/staplerd/staplerd.yaml';
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';
const run = promisify(execFile);

/** `Key=value` lines of a unit file, in order (comments and section headers dropped). */
async function readDirectives(file: string): Promise<[string, string][]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('['))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)] as [string, string];
    });
}

function directive(directives: [string, string][], key: string): string | undefined {
  return directives.find(([k]) => k === key)?.[1];
}

/**
 * A unit's staplerd command line, as argv for the built binary: `-` (systemd's "ignore failure" prefix) dropped,
 * the installed binary name stripped, and the installed config path swapped for a test one.
 */
function toTestArgv(command: string, configFile: string): string[] {
  const words = command.replace(/^-/, '').split(/\s+/);
  expect(words[0]).toBe(INSTALLED_BINARY);
  return words.slice(1).map((word) => (word === INSTALLED_CONFIG ? configFile : word));
}

describe('systemd units', () => {
  let fx: E2eFixture;
  let configFile: string;
  let certsDir: string;
  let stapleFile: string;

  beforeAll(async () => {
    fx = await createE2eFixture();
    certsDir = await fx.makeDir('certs');
    const leaf = await fx.issueLeaf({ commonName: 'unit.test' });
    const { certFile } = await fx.pki.writeLeaf(certsDir, leaf, 'fullchain', 'unit');
    stapleFile = `${certFile}.ocsp`;
    configFile = path.join(fx.root, 'staplerd.yaml');
    await writeFile(configFile, `certs:\n  - ${certsDir}\n`);
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('both services keep their state in StateDirectory=staplerd, so backoff survives restarts and timer runs', async () => {
    for (const unit of ['staplerd.service', 'staplerd-once.service']) {
      const directives = await readDirectives(path.join(UNIT_DIR, unit));
      expect({ unit, stateDirectory: directive(directives, 'StateDirectory') }).toEqual({ unit, stateDirectory: 'staplerd' });
    }
  });

  it('RestartPreventExitStatus is the exit status staplerd gives a broken configuration', async () => {
    const directives = await readDirectives(path.join(UNIT_DIR, 'staplerd.service'));
    const broken = path.join(fx.root, 'broken.yaml');
    await writeFile(broken, 'certs: [unclosed\n');
    const result = await runCli(['run', '--config', broken], { env: fx.env });
    expect(result.stderr).toContain(broken);
    expect(String(result.code)).toBe(directive(directives, 'RestartPreventExitStatus'));
  });

  it("staplerd-once.service's ExecStart runs a pass that writes the staple", async () => {
    const command = directive(await readDirectives(path.join(UNIT_DIR, 'staplerd-once.service')), 'ExecStart')!;
    const result = await runCli(toTestArgv(command, configFile), { env: fx.env });
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await exists(stapleFile)).toBe(true);
    // --log-format json, as the unit asks: every log line is one JSON object for journald.
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('the nginx and HAProxy ExecStartPre drop-ins run a pass and tolerate its failure ("-" prefix)', async () => {
    const examples = path.join(UNIT_DIR, 'examples');
    const dropIns = (await readdir(examples)).filter((name) => name.endsWith('.conf'));
    expect(dropIns.sort()).toEqual(['haproxy-staplerd.conf', 'nginx-staplerd.conf']);
    for (const name of dropIns) {
      const command = directive(await readDirectives(path.join(examples, name)), 'ExecStartPre')!;
      // A failing pass (responder outage) must not keep nginx/HAProxy from starting with what is valid.
      expect({ name, ignoresFailure: command.startsWith('-') }).toEqual({ name, ignoresFailure: true });
      const result = await runCli(toTestArgv(command, configFile), { env: fx.env });
      expect({ name, code: result.code }).toEqual({ name, code: 0 });
    }
  });

  it("staplerd.service's ExecStart starts the daemon, its ExecReload (SIGHUP) re-reads the config, and SIGTERM stops it cleanly", async () => {
    const directives = await readDirectives(path.join(UNIT_DIR, 'staplerd.service'));
    expect(directive(directives, 'ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(directive(directives, 'KillSignal')).toBe('SIGTERM');
    const argv = toTestArgv(directive(directives, 'ExecStart')!, configFile);
    expect(argv[0]).toBe('run');
    const daemon = startDaemon(argv.slice(1), { env: fx.env });
    try {
      await daemon.waitForLog('"daemon.ready"', 20_000);
      const mark = daemon.output().length;
      daemon.child.kill('SIGHUP');
      await daemon.waitForLog('"daemon.reloaded"', 20_000, mark);
    } finally {
      const exit = await daemon.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
    }
  });
});

const haveSystemdAnalyze = existsSync(SYSTEMD_ANALYZE);
if (!haveSystemdAnalyze) console.warn(`${SYSTEMD_ANALYZE} not found: systemd's own checks of the units are skipped`);

(haveSystemdAnalyze ? describe : describe.skip)('systemd-analyze on the units', () => {
  let unitCopies: string;

  beforeAll(async () => {
    // verify checks that ExecStart's binary exists: point the copies at the built CLI instead of /usr/bin/staplerd.
    const { makeTempDir } = await import('../helpers/test-pki.js');
    unitCopies = await makeTempDir('staplerd-units-');
    for (const name of ['staplerd.service', 'staplerd-once.service', 'staplerd-once.timer']) {
      const text = await readFile(path.join(UNIT_DIR, name), 'utf8');
      await writeFile(path.join(unitCopies, name), text.replaceAll(INSTALLED_BINARY, CLI_PATH));
    }
  });

  afterAll(async () => {
    const { removeTempDir } = await import('../helpers/test-pki.js');
    if (unitCopies) await removeTempDir(unitCopies);
  });

  it('verify finds no error in the services and the timer', async () => {
    const names = ['staplerd.service', 'staplerd-once.service', 'staplerd-once.timer'].map((name) => path.join(unitCopies, name));
    const result = await run(SYSTEMD_ANALYZE, ['verify', ...names]).then(
      (ok) => ({ code: 0, stderr: ok.stderr }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(result).toEqual({ code: 0, stderr: '' });
  });

  it('the daemon unit keeps the exposure level reported in docs/systemd.md (1.7, "OK")', async () => {
    const { stdout } = await run(SYSTEMD_ANALYZE, ['security', '--offline=true', path.join(unitCopies, 'staplerd.service')]);
    const level = /Overall exposure level for staplerd\.service: ([\d.]+) (\w+)/.exec(stdout);
    expect(level?.slice(1)).toEqual(['1.7', 'OK']);
    expect(await readFile(path.join(PROJECT_ROOT, 'docs', 'systemd.md'), 'utf8')).toContain('1.7');
  });
});
