// Revocation from CRLs through the built CLI (issue 14): CRLs made by `openssl ca -gencrl`, served over loopback HTTP.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeIfAvailable } from '../helpers/describe-if-available.js';
import { createOpensslCa, missingOpensslReason, NEEDS_OPENSSL, startCrlServer, type CrlServer, type OpensslCa, type OpensslLeaf } from '../helpers/openssl-crl-ca.js';
import { runCli, startDaemon, type CliResult } from '../helpers/run-cli.js';
import { findSamples, parseExposition } from '../metrics/exposition.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';
import { closedPortUrl, freePort } from './e2e-fixture.js';
import { createHookRecorder } from '../hooks/hook-recorder.js';
import { expectExit, jsonEvents } from '../servers/server-fixture.js';

let root: string;
let server: CrlServer;

/** A CA with one leaf naming `<server>/<name>.crl`, a certs dir holding its fullchain, and a state dir of its own. */
async function scenario(name: string): Promise<{ ca: OpensslCa; leaf: OpensslLeaf; certsDir: string; stateDir: string; crlPath: string }> {
  const dir = path.join(root, name);
  const ca = await createOpensslCa(path.join(dir, 'ca'));
  const crlPath = `/${name}.crl`;
  const leaf = await ca.issueLeaf(name, [`${server.baseUrl}${crlPath}`]);
  const certsDir = path.join(dir, 'certs');
  const stateDir = path.join(dir, 'state');
  await mkdir(certsDir, { recursive: true });
  spawnSync('cp', [leaf.fullchainFile, path.join(certsDir, 'fullchain.pem')]);
  return { ca, leaf, certsDir, stateDir, crlPath };
}

/**
 * A certificate the CA revokes after publishing a first CRL: `once` sees the revocation (exit 1) from the second CRL;
 * `before` is the first one, for replaying it.
 */
async function revokedAfterAnEarlierCrl(name: string): Promise<Awaited<ReturnType<typeof scenario>> & { before: Buffer }> {
  const setup = await scenario(name);
  const before = await setup.ca.generateCrl();
  await setup.ca.revoke(setup.leaf);
  server.serve(setup.crlPath, await setup.ca.generateCrl());
  expectExit(await once(setup.certsDir, setup.stateDir), 1);
  return { ...setup, before };
}

function once(certsDir: string, stateDir: string, ...extra: string[]): Promise<CliResult> {
  return runCli(['once', '--certs', certsDir, '--state-dir', stateDir, '--log-format', 'json', ...extra]);
}

async function statusRows(certsDir: string, stateDir: string): Promise<Record<string, unknown>[]> {
  const result = await runCli(['status', '--certs', certsDir, '--state-dir', stateDir, '--json']);
  return (JSON.parse(result.stdout) as { certificates: Record<string, unknown>[] }).certificates;
}

function requestsFor(crlPath: string) {
  return server.requests.filter((r) => r.path === crlPath);
}

/** The CRL codes the run logged (download refusals as crl.failed, verdicts as cert.crl_failed). */
function crlFailureCodes(result: CliResult): unknown[] {
  return jsonEvents(result).filter((e) => e.event === 'crl.failed' || e.event === 'cert.crl_failed').map((e) => e.code);
}

describeIfAvailable('revocation from CRLs through `staplerd once` and `status`', missingOpensslReason(), NEEDS_OPENSSL, () => {
  beforeAll(async () => {
    root = await makeTempDir('staplerd-crl-');
    server = await startCrlServer();
  });

  afterAll(async () => {
    await server?.close();
    if (root) await removeTempDir(root);
  });

  it('says "not revoked per CRL" without writing a staple, and a second run uses the kept CRL with no download', async () => {
    const { ca, certsDir, stateDir, crlPath } = await scenario('good');
    server.serve(crlPath, await ca.generateCrl());

    const first = await once(certsDir, stateDir);
    expectExit(first, 0);
    expect(first.stdout).toContain('not revoked per CRL');
    expect(await readdir(certsDir)).toEqual(['fullchain.pem']);
    expect(requestsFor(crlPath)).toHaveLength(1);

    const second = await once(certsDir, stateDir);
    expectExit(second, 0);
    expect(requestsFor(crlPath)).toHaveLength(1);
    const [row] = await statusRows(certsDir, stateDir);
    expect({ state: row?.state, crl: (row?.crl as Record<string, unknown>)?.status }).toEqual({ state: 'crl-good', crl: 'good' });
  });

  it('reports a revocation the CA adds: exit 1, cert.revoked from the crl, the --on-revoked hook, status revoked (crl)', async () => {
    const { ca, leaf, certsDir, stateDir, crlPath } = await scenario('revoked');
    const hooksDir = path.join(root, 'revoked', 'hooks');
    await mkdir(hooksDir);
    server.serve(crlPath, await ca.generateCrl());
    expectExit(await once(certsDir, stateDir), 0);
    await ca.revoke(leaf);
    server.serve(crlPath, await ca.generateCrl());
    const recorder = await createHookRecorder(hooksDir, 'revoked');

    // --force asks the distribution point now instead of at its next refresh (conditionally).
    const result = await once(certsDir, stateDir, '--force', '--on-revoked', recorder.command());

    expectExit(result, 1);
    const revoked = jsonEvents(result).find((e) => e.event === 'cert.revoked');
    expect({ source: revoked?.source, reason: revoked?.reason, serial: revoked?.serial }).toEqual({ source: 'crl', reason: 'keyCompromise', serial: leaf.serialHex });
    expect((await recorder.runs()).map((run) => ({ event: run.event, serials: run.revokedSerials }))).toEqual([{ event: 'revoked', serials: leaf.serialHex }]);
    expect(requestsFor(crlPath).map((r) => r.status)).toEqual([200, 200]);
    const [row] = await statusRows(certsDir, stateDir);
    expect({ state: row?.state, source: row?.revocationSource }).toEqual({ state: 'revoked', source: 'crl' });
    expect(await readdir(certsDir)).toEqual(['fullchain.pem']);
  });

  it('refuses an older CRL replayed after a revocation: the certificate stays revoked (CRL_OLDER)', async () => {
    const { certsDir, stateDir, crlPath, before } = await revokedAfterAnEarlierCrl('replay');
    server.serve(crlPath, before);

    const result = await once(certsDir, stateDir, '--force');

    expectExit(result, 1);
    expect(crlFailureCodes(result)).toContain('CRL_OLDER');
    expect(jsonEvents(result).find((e) => e.event === 'cert.revoked')?.source).toBe('crl');
  });

  it('still refuses the replayed older CRL when the kept CRL was damaged: the CRL number floor is kept apart (CRL_OLDER)', async () => {
    const { ca, certsDir, stateDir, crlPath, before } = await revokedAfterAnEarlierCrl('replay-damaged');
    const keptFile = path.join(stateDir, 'crl', (await readdir(path.join(stateDir, 'crl'))).find((name) => name.endsWith('.der'))!);
    await writeFile(keptFile, Buffer.from('not a CRL'));
    server.serve(crlPath, before);

    const replayed = await once(certsDir, stateDir);

    expect(jsonEvents(replayed).find((e) => e.event === 'crl.kept_refused')?.code).toBe('CRL_MALFORMED');
    expect(crlFailureCodes(replayed)).toContain('CRL_OLDER');
    expect(replayed.stdout).not.toContain('not revoked per CRL');
    expect(replayed.code).not.toBe(0);
    // Nothing unvalidated, and nothing older, is written over the kept file.
    expect((await readFile(keptFile)).equals(before)).toBe(false);

    server.serve(crlPath, await ca.generateCrl());
    const newer = await once(certsDir, stateDir);
    expectExit(newer, 1);
    expect(jsonEvents(newer).find((e) => e.event === 'cert.revoked')?.source).toBe('crl');
  });

  it('answers 304 to an unchanged CRL: --force asks conditionally and keeps the verdict', async () => {
    const { ca, certsDir, stateDir, crlPath } = await scenario('conditional');
    server.serve(crlPath, await ca.generateCrl());
    expectExit(await once(certsDir, stateDir), 0);
    expectExit(await once(certsDir, stateDir, '--force'), 0);
    expect(requestsFor(crlPath).map((r) => ({ conditional: r.conditional, status: r.status }))).toEqual([
      { conditional: false, status: 200 },
      { conditional: true, status: 304 },
    ]);
  });

  const refusals: [string, string, (ca: OpensslCa, dir: string) => Promise<Buffer>][] = [
    ['a CRL signed by another key with the issuer\'s name', 'CRL_UNVERIFIED', async (_ca, dir) => (await createOpensslCa(path.join(dir, 'forger'))).generateCrl()],
    ['an expired CRL', 'CRL_EXPIRED', (ca) => ca.generateCrl({ lastUpdate: '20250101000000Z', nextUpdate: '20250108000000Z' })],
    ['a CRL whose thisUpdate is days ahead', 'CRL_NOT_YET_VALID', (ca) => ca.generateCrl({ lastUpdate: '20991201000000Z', nextUpdate: '20991208000000Z' })],
    ['a delta CRL (deltaCRLIndicator)', 'CRL_UNSUPPORTED', (ca) => ca.generateCrl({ extensions: ['2.5.29.27 = critical, ASN1:INTEGER:1'] })],
    ['a CRL with an unknown critical extension', 'CRL_UNSUPPORTED', (ca) => ca.generateCrl({ extensions: ['1.3.6.1.4.1.55555.1 = critical, ASN1:NULL'] })],
    ['a CRL for CA certificates only (issuing distribution point)', 'CRL_SCOPE_MISMATCH', (ca) => ca.generateCrl({ extensions: ['issuingDistributionPoint = critical, @idp', '[idp]', 'onlyCA = TRUE'] })],
    ['a CRL of another distribution point', 'CRL_SCOPE_MISMATCH', (ca) => ca.generateCrl({ extensions: ['issuingDistributionPoint = critical, @idp', '[idp]', 'fullname = URI:http://elsewhere.test/x.crl'] })],
    ['bytes that are not a CRL', 'CRL_MALFORMED', async () => Buffer.from('<html>not a CRL</html>')],
  ];

  it.each(refusals)('refuses %s (%s), reported by code, exit 1, nothing written', async (_what, code, makeCrl) => {
    const name = `refuse-${code.toLowerCase()}-${refusals.findIndex((r) => r[2] === makeCrl)}`;
    const { ca, certsDir, stateDir, crlPath } = await scenario(name);
    server.serve(crlPath, await makeCrl(ca, path.join(root, name)));

    const result = await once(certsDir, stateDir);

    expectExit(result, 1);
    expect(crlFailureCodes(result)).toContain(code);
    const [row] = await statusRows(certsDir, stateDir);
    expect((row?.crl as Record<string, unknown> | undefined)?.status).not.toBe('good');
    expect(await readdir(certsDir)).toEqual(['fullchain.pem']);
  });

  it('refuses a CRL larger than --max-crl-size (CRL_TOO_LARGE)', async () => {
    const { ca, certsDir, stateDir, crlPath } = await scenario('too-large');
    await ca.addRevokedEntries(200);
    server.serve(crlPath, await ca.generateCrl());

    const result = await once(certsDir, stateDir, '--max-crl-size', '2048');

    expectExit(result, 1);
    expect(crlFailureCodes(result)).toContain('CRL_TOO_LARGE');
  });

  it('follows a certificate put on hold, then released by a newer CRL (certificateHold is the one revocation undone)', async () => {
    const { ca, leaf, certsDir, stateDir, crlPath } = await scenario('hold');
    await ca.revoke(leaf, 'certificateHold');
    server.serve(crlPath, await ca.generateCrl());
    const held = await once(certsDir, stateDir);
    expectExit(held, 1);
    expect(jsonEvents(held).find((e) => e.event === 'cert.revoked')?.reason).toBe('certificateHold');
    await ca.release(leaf);
    server.serve(crlPath, await ca.generateCrl());

    expectExit(await once(certsDir, stateDir, '--force'), 0);
    const [row] = await statusRows(certsDir, stateDir);
    expect(row?.state).toBe('crl-good');
  });

  it('checks a 10 MB CRL (215,000 entries) within a 48 MiB V8 heap, as docs/performance.md says', async () => {
    const { ca, leaf, certsDir, stateDir, crlPath } = await scenario('large');
    await ca.addRevokedEntries(215_000);
    await ca.revoke(leaf);
    const crl = await ca.generateCrl();
    expect(crl.length).toBeGreaterThan(10_000_000);
    server.serve(crlPath, crl);

    const result = await runCli(['once', '--certs', certsDir, '--state-dir', stateDir, '--log-format', 'json'], { env: { NODE_OPTIONS: '--max-old-space-size=48' }, timeoutMs: 60_000 });

    expectExit(result, 1);
    const updated = jsonEvents(result).find((e) => e.event === 'crl.updated');
    expect(updated?.entries).toBe(215_001);
    expect(jsonEvents(result).find((e) => e.event === 'cert.revoked')?.source).toBe('crl');
  }, 120_000);

  it('downloads a distribution point once for all the certificates naming it', async () => {
    const { ca, certsDir, stateDir, crlPath } = await scenario('shared');
    for (const name of ['second', 'third']) {
      const other = await ca.issueLeaf(`${name}.shared`, [`${server.baseUrl}${crlPath}`]);
      spawnSync('cp', [other.fullchainFile, path.join(certsDir, `${name}.pem`)]);
    }
    server.serve(crlPath, await ca.generateCrl());

    const result = await once(certsDir, stateDir);

    expectExit(result, 0);
    expect(result.stdout.match(/not revoked per CRL/g)).toHaveLength(3);
    expect(requestsFor(crlPath)).toHaveLength(1);
  });

  it('checks certificates that have OCSP too only with --crl-check always, where a CRL listing one makes it revoked', async () => {
    const { ca, certsDir, stateDir, crlPath } = await scenario('always');
    const withOcsp = await ca.issueLeaf('ocsp.always', [`${server.baseUrl}${crlPath}`], [`authorityInfoAccess = OCSP;URI:${await closedPortUrl()}`]);
    spawnSync('rm', [path.join(certsDir, 'fullchain.pem')]);
    spawnSync('cp', [withOcsp.fullchainFile, path.join(certsDir, 'fullchain.pem')]);
    await ca.revoke(withOcsp);
    server.serve(crlPath, await ca.generateCrl());

    const byDefault = await once(certsDir, stateDir);
    expect(jsonEvents(byDefault).some((e) => e.event === 'cert.revoked')).toBe(false);
    expect(requestsFor(crlPath)).toHaveLength(0);

    const always = await once(certsDir, stateDir, '--crl-check', 'always');
    expectExit(always, 1);
    expect(jsonEvents(always).find((e) => e.event === 'cert.revoked')?.source).toBe('crl');
    expect(requestsFor(crlPath)).toHaveLength(1);
  });

  it('`run` shows a CRL revocation in /metrics (source crl, CRL window) and /healthz (503), and runs --on-revoked once', async () => {
    const { ca, leaf, certsDir, stateDir, crlPath } = await scenario('daemon');
    const hooksDir = path.join(root, 'daemon', 'hooks');
    await mkdir(hooksDir);
    const recorder = await createHookRecorder(hooksDir, 'daemon');
    await ca.revoke(leaf);
    server.serve(crlPath, await ca.generateCrl());
    const port = await freePort();
    const daemon = startDaemon(['--certs', certsDir, '--state-dir', stateDir, '--metrics', `127.0.0.1:${port}`, '--log-format', 'json', '--on-revoked', recorder.command()]);
    try {
      await daemon.waitForLog('"hook.revoked"', 20_000);
      const exposition = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      const revokedSeries = findSamples(exposition, 'staplerd_certificate_revoked');
      expect(revokedSeries.map((s) => ({ source: s.labels.source, serial: s.labels.serial, value: s.value }))).toEqual([{ source: 'crl', serial: leaf.serialHex, value: 1 }]);
      expect(findSamples(exposition, 'staplerd_crl_next_update_timestamp_seconds')).toHaveLength(1);
      const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
      const body = (await healthz.json()) as { problems: { reason: string }[] };
      expect({ status: healthz.status, reason: body.problems[0]?.reason }).toEqual({ status: 503, reason: `revoked: the certificate's CRL lists it (${server.baseUrl}${crlPath})` });
    } finally {
      await daemon.stop();
    }
    expect((await recorder.runs()).map((run) => run.revokedSerials)).toEqual([leaf.serialHex]);
  });

  it('does not trust the state dir: a kept CRL replaced by junk, or by a FIFO, is refused and downloaded again', async () => {
    const { ca, certsDir, stateDir, crlPath } = await scenario('hostile-state');
    server.serve(crlPath, await ca.generateCrl());
    expectExit(await once(certsDir, stateDir), 0);
    const [kept] = (await readdir(path.join(stateDir, 'crl'))).filter((name) => name.endsWith('.der'));
    const keptFile = path.join(stateDir, 'crl', kept!);

    await writeFile(keptFile, Buffer.from('not a CRL'));
    const afterJunk = await once(certsDir, stateDir);
    expectExit(afterJunk, 0);
    expect(jsonEvents(afterJunk).find((e) => e.event === 'crl.kept_refused')?.code).toBe('CRL_MALFORMED');

    await rm(keptFile);
    expect(spawnSync('mkfifo', [keptFile]).status).toBe(0);
    const afterFifo = await once(certsDir, stateDir);
    expectExit(afterFifo, 0);
    expect(jsonEvents(afterFifo).find((e) => e.event === 'crl.kept_refused')?.code).toBe('FILE_NOT_REGULAR');
    expect(requestsFor(crlPath)).toHaveLength(3);
  });

  it('keeps CRLs off with --crl-check never: not applicable, no request', async () => {
    const { ca, certsDir, stateDir, crlPath } = await scenario('never');
    server.serve(crlPath, await ca.generateCrl());
    expectExit(await once(certsDir, stateDir, '--crl-check', 'never'), 0);
    expect(requestsFor(crlPath)).toHaveLength(0);
  });
});
