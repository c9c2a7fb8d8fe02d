// End to end: `staplerd status` over a prepared tree (table and --json), and its live view while `staplerd run` runs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IssuedIdentity } from '../../src/demo/demo-pki.js';
import { buildOcspRequest } from '../../src/pki/ocsp-request.js';
import { runCli, startDaemon, type CliResult, type DaemonProcess } from '../helpers/run-cli.js';
import { checkStaple, closedPortUrl, createE2eFixture, expectExitCode, type CheckVerdict, type E2eFixture } from './e2e-fixture.js';

const HOUR_MS = 3_600_000;

let fx: E2eFixture;
let tree: string;
let daemon: DaemonProcess | undefined;

/** Certificate file per scenario name, and the leaf's reference PEM for `check`. */
const files: Record<string, { certFile: string; leaf: IssuedIdentity; ref: string }> = {};

interface JsonRow {
  path: string;
  certFiles: string[];
  stapleFiles: string[];
  subject: string;
  serialHex: string;
  mustStaple: boolean;
  ocspUrl: string | null;
  state: string;
  certStatus?: string;
  thisUpdate?: string;
  nextUpdate?: string;
  nextRefreshAt?: string;
  consecutiveFailures: number;
  lastErrorCode?: string;
  lastErrorMessage?: string;
}

interface JsonStatus {
  generatedAt: string;
  source: 'files' | 'daemon';
  stateDir: string;
  daemonPid?: number;
  daemonUpdatedAt?: string;
  certificates: JsonRow[];
}

/** One scenario: its own directory below the tree, so `once` can prepare it alone. */
async function addCertificate(name: string, options: { mustStaple?: boolean; ocspUrls?: string[] } = {}): Promise<string> {
  const dir = await fx.makeDir(`tree/${name}`);
  const leaf = await fx.issueLeaf({ commonName: `${name}.test`, ...options });
  const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', name);
  files[name] = { certFile, leaf, ref: await fx.writeReferencePem(leaf) };
  return dir;
}

async function prepare(args: readonly string[]): Promise<CliResult> {
  const result = await fx.once(args);
  if (result.code === null || result.code > 1) throw new Error(`set-up pass failed:\n${result.stdout}${result.stderr}`);
  return result;
}

/** The responder's own answer, fetched by the test itself (staplerd never writes an "unknown" staple). */
async function fetchResponse(leaf: IssuedIdentity): Promise<Uint8Array> {
  const request = await buildOcspRequest(leaf.certificate, fx.pki.authority.intermediate.certificate);
  const response = await fetch(fx.responder.url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: request.der });
  return new Uint8Array(await response.arrayBuffer());
}

async function status(args: readonly string[] = []): Promise<CliResult> {
  return runCli(['status', '--certs', tree, ...args], { env: fx.env });
}

async function statusJson(): Promise<JsonStatus> {
  const result = await status(['--json']);
  expectExitCode(result, 0);
  return JSON.parse(result.stdout) as JsonStatus;
}

function rowOf(report: JsonStatus, name: string): JsonRow {
  const row = report.certificates.find((r) => r.path === files[name]!.certFile);
  if (!row) throw new Error(`no row for ${name} in ${JSON.stringify(report.certificates.map((r) => r.path))}`);
  return row;
}

let verdicts: Record<string, CheckVerdict>;
let unreachable: string;

beforeAll(async () => {
  fx = await createE2eFixture();
  tree = path.join(fx.root, 'tree');
  unreachable = await closedPortUrl();

  // due: a staple fetched while the responder's clock was 20 h behind: still valid (24 h), past its halfway refresh.
  const dueDir = await addCertificate('due');
  fx.advanceResponderClock(-20 * HOUR_MS);
  await prepare(['--certs', dueDir]);
  fx.advanceResponderClock(20 * HOUR_MS);
  // fresh: a must-staple certificate with a just-fetched staple. failing: the responder is unreachable, so no staple
  // and one failure in the history. revoked: the responder says so, and the revoked answer is the staple.
  await addCertificate('fresh', { mustStaple: true });
  await addCertificate('failing', { ocspUrls: [unreachable] });
  await addCertificate('revoked');
  fx.responder.setStatus(files.revoked!.leaf.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(Date.now() - HOUR_MS), reason: 1 });
  // One pass over the whole tree, as the history keeps only the certificates of the last pass. The due staple is not
  // fetched again: the responder's previous answer was already due, so staplerd waits before asking again.
  const requestsBefore = fx.responder.requestCount;
  await prepare(['--certs', tree]);
  if (fx.responder.requestCount !== requestsBefore + 2) throw new Error('set-up: expected fetches for fresh and revoked only');
  // unknown: a valid response saying "unknown" on disk. missing: never fetched. not-applicable: no OCSP URL at all.
  await addCertificate('unknown');
  fx.responder.setStatus(files.unknown!.leaf.certificate.summary.serialHex, { status: 'unknown' });
  await writeFile(`${files.unknown!.certFile}.ocsp`, await fetchResponse(files.unknown!.leaf));
  await addCertificate('missing');
  await addCertificate('no-ocsp', { ocspUrls: [] });

  verdicts = {};
  for (const name of ['fresh', 'due', 'revoked', 'unknown']) verdicts[name] = await checkStaple(`${files[name]!.certFile}.ocsp`, files[name]!.ref, fx);
});

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) await daemon.stop('SIGKILL');
  await fx?.close();
});

describe('staplerd status --json, from the files (no daemon)', () => {
  let report: JsonStatus;
  let requestsBefore: number;

  beforeAll(async () => {
    requestsBefore = fx.responder.requestCount;
    report = await statusJson();
  });

  it('says where the view comes from and which state dir it read', () => {
    expect(report).toMatchObject({ source: 'files', stateDir: fx.env.STATE_DIRECTORY });
    expect(Number.isNaN(Date.parse(report.generatedAt))).toBe(false);
    expect(report.certificates.map((r) => r.path).sort()).toEqual(Object.values(files).map((f) => f.certFile).sort());
  });

  it('fetches nothing and writes nothing', () => {
    expect(fx.responder.requestCount).toBe(requestsBefore);
  });

  it('gives a fresh staple every field, with the staple times exactly as on disk', () => {
    const { certFile, leaf } = files.fresh!;
    const row = rowOf(report, 'fresh');
    const { nextRefreshAt, ...rest } = row;
    expect(rest).toEqual({
      path: certFile,
      certFiles: [certFile],
      stapleFiles: [`${certFile}.ocsp`],
      subject: 'CN=fresh.test',
      serialHex: leaf.certificate.summary.serialHex,
      mustStaple: true,
      ocspUrl: fx.responder.url,
      state: 'fresh',
      certStatus: 'good',
      thisUpdate: verdicts.fresh!.thisUpdate,
      nextUpdate: verdicts.fresh!.nextUpdate,
      consecutiveFailures: 0,
    });
    // The planned refresh lies inside the staple's validity (halfway, with jitter).
    expect(Date.parse(nextRefreshAt!)).toBeGreaterThan(Date.parse(row.thisUpdate!));
    expect(Date.parse(nextRefreshAt!)).toBeLessThan(Date.parse(row.nextUpdate!));
  });

  it('shows a still-valid staple past its refresh time as due', () => {
    expect(rowOf(report, 'due')).toMatchObject({ state: 'due', certStatus: 'good', nextUpdate: verdicts.due!.nextUpdate, consecutiveFailures: 0 });
  });

  it('shows a certificate whose responder is unreachable as failing, with the failure count and last error code', () => {
    const row = rowOf(report, 'failing');
    expect(row).toMatchObject({ state: 'failing', ocspUrl: unreachable, consecutiveFailures: 1, lastErrorCode: 'FETCH_NETWORK' });
    expect(row.thisUpdate).toBeUndefined();
    expect(row.nextUpdate).toBeUndefined();
    // The retry time from the backoff, not "now".
    expect(Date.parse(row.nextRefreshAt!)).toBeGreaterThan(Date.parse(report.generatedAt));
  });

  it('shows revoked and unknown staples by their status', () => {
    expect(rowOf(report, 'revoked')).toMatchObject({ state: 'revoked', certStatus: 'revoked', nextUpdate: verdicts.revoked!.nextUpdate });
    expect(rowOf(report, 'unknown')).toMatchObject({ state: 'unknown', certStatus: 'unknown', nextUpdate: verdicts.unknown!.nextUpdate });
  });

  it('shows a never-fetched certificate as missing, without times or errors', () => {
    const row = rowOf(report, 'missing');
    expect(row).toMatchObject({ state: 'missing', consecutiveFailures: 0, ocspUrl: fx.responder.url });
    expect([row.thisUpdate, row.nextUpdate, row.lastErrorCode]).toEqual([undefined, undefined, undefined]);
  });

  it('shows a certificate without an OCSP URL as not applicable, with ocspUrl null', () => {
    const row = rowOf(report, 'no-ocsp');
    expect(row).toMatchObject({ state: 'not-applicable', ocspUrl: null, consecutiveFailures: 0 });
    expect(row.lastErrorCode).toBeUndefined();
  });
});

describe('staplerd status (table)', () => {
  let lines: string[];

  beforeAll(async () => {
    const result = await status();
    expectExitCode(result, 0);
    lines = result.stdout.trimEnd().split('\n');
  });

  it('starts with a count and says the view is from the files', () => {
    expect(lines[0]).toBe(`${Object.keys(files).length} certificates, from the files on disk (no daemon running)`);
  });

  it('prints no colour codes when stdout is not a terminal', () => {
    expect(lines.join('\n')).not.toMatch(/\x1b\[/);
  });

  it('aligns every column under its heading', () => {
    const header = lines[1]!;
    const titles = ['PATH', 'SUBJECT', 'SERIAL', 'MUST', 'OCSP URL', 'STATE', 'THIS UPDATE', 'NEXT UPDATE', 'NEXT REFRESH', 'FAILS', 'LAST ERROR'];
    const starts = titles.map((title) => header.indexOf(title));
    expect(starts.every((start, i) => start >= 0 && (i === 0 || start > starts[i - 1]!))).toBe(true);
    const rows = lines.slice(2);
    expect(rows).toHaveLength(Object.keys(files).length);
    for (const line of rows) {
      // Each cell starts at its column and is preceded by the two-space gap (or is the first one).
      for (const start of starts.slice(1)) expect(line.slice(start - 2, start)).toBe('  ');
      for (const start of starts.slice(1)) expect(line[start]).not.toBe(' ');
    }
  });

  it('shows the state, the must-staple flag and the last error of each certificate in its row', () => {
    const header = lines[1]!;
    const cell = (line: string, title: string): string => line.slice(header.indexOf(title)).split('  ')[0]!.trim();
    const byPath = new Map(lines.slice(2).map((line) => [cell(line, 'PATH'), line]));
    const failing = byPath.get(files.failing!.certFile)!;
    expect([cell(failing, 'STATE'), cell(failing, 'FAILS'), cell(failing, 'LAST ERROR')]).toEqual(['failing', '1', 'FETCH_NETWORK']);
    const fresh = byPath.get(files.fresh!.certFile)!;
    expect([cell(fresh, 'MUST'), cell(fresh, 'STATE'), cell(fresh, 'NEXT UPDATE')]).toEqual(['yes', 'fresh', verdicts.fresh!.nextUpdate!.replace('.000Z', 'Z')]);
    const noOcsp = byPath.get(files['no-ocsp']!.certFile)!;
    expect([cell(noOcsp, 'OCSP URL'), cell(noOcsp, 'STATE'), cell(noOcsp, 'NEXT REFRESH')]).toEqual(['not applicable', 'not-applicable', '-']);
  });
});

describe('staplerd status while staplerd run is running', () => {
  it("shows the daemon's live view, then the files again once it has stopped", async () => {
    daemon = startDaemon(['--certs', tree, '--log-format', 'json', '--timeout', '2'], { env: fx.env });
    await daemon.waitForLog('"daemon.ready"', 20_000);

    const live = await statusJson();
    expect(live).toMatchObject({ source: 'daemon', daemonPid: daemon.child.pid, stateDir: fx.env.STATE_DIRECTORY });
    expect(live.certificates.map((r) => r.path).sort()).toEqual(Object.values(files).map((f) => f.certFile).sort());
    // The daemon fetched for the never-fetched certificate in its first pass: its live row says so.
    expect(rowOf(live, 'missing')).toMatchObject({ state: 'fresh', certStatus: 'good' });
    const table = await status();
    expect(table.stdout.split('\n')[0]).toMatch(new RegExp(`^${Object.keys(files).length} certificates, live view of staplerd \\(pid ${daemon.child.pid}\\), updated `));

    expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect((await statusJson()).source).toBe('files');
  });
});

describe('staplerd status does not take a live pid for the daemon', () => {
  it("shows the files, not the snapshot's table, when status.json names a live process that is not a daemon", async () => {
    // The incident: a snapshot left by a test run (or from before a reboot) whose pid now belongs to another process.
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      for (const pid of [stranger.pid!, 1]) {
        const stateDir = await fx.makeDir(`stranger-state-${pid}`);
        await writeFile(path.join(stateDir, 'status.json'), JSON.stringify({ version: 1, pid, updatedAt: new Date().toISOString(), certificates: [] }));
        const result = await runCli(['status', '--certs', tree, '--json'], { env: { STATE_DIRECTORY: stateDir } });
        expectExitCode(result, 0);
        const report = JSON.parse(result.stdout) as JsonStatus & { reason?: string };
        expect(report).toMatchObject({ source: 'files', reason: 'no-daemon', stateDir });
        expect(report.daemonPid).toBeUndefined();
        expect(report.certificates.map((r) => r.path).sort()).toEqual(Object.values(files).map((f) => f.certFile).sort());
        const table = await runCli(['status', '--certs', tree], { env: { STATE_DIRECTORY: stateDir } });
        expect(table.stdout.split('\n')[0]).toBe(`${Object.keys(files).length} certificates, from the files on disk (no daemon running)`);
      }
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('shows the files, naming the daemon, when the daemon on this state dir watches other certificates', async () => {
    const elsewhere = await fx.makeDir('elsewhere');
    await fx.pki.writeLeaf(elsewhere, await fx.issueLeaf({ commonName: 'elsewhere.test' }), 'fullchain', 'elsewhere');
    daemon = startDaemon(['--certs', elsewhere, '--log-format', 'json', '--timeout', '2'], { env: fx.env });
    await daemon.waitForLog('"daemon.ready"', 20_000);

    const report = (await statusJson()) as JsonStatus & { reason?: string };
    expect(report).toMatchObject({ source: 'files', reason: 'other-certificates', daemonPid: daemon.child.pid, stateDir: fx.env.STATE_DIRECTORY });
    expect(report.certificates.map((r) => r.path).sort()).toEqual(Object.values(files).map((f) => f.certFile).sort());
    const table = await status();
    expect(table.stdout.split('\n')[0]).toBe(
      `${Object.keys(files).length} certificates, from the files on disk (the daemon running on this state dir, pid ${daemon.child.pid}, watches other certificates)`,
    );
    // The daemon's own certificates, asked with its own options, are its live view.
    const own = await runCli(['status', '--certs', elsewhere, '--json'], { env: fx.env });
    expect(JSON.parse(own.stdout)).toMatchObject({ source: 'daemon', daemonPid: daemon.child.pid });
    expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

