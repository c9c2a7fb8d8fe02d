// End to end: `staplerd once` (the built binary) against the in-process responder, for real-world file layouts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { writeLeafFiles } from '../../src/demo/write-leaf-files.js';
import { runCli } from '../helpers/run-cli.js';
import { createE2eFixture, exists, expectExitCode, linesWith, listFiles, listTempFiles, readIdentity, verifyWithOpenssl, type E2eFixture, type FileIdentity } from './e2e-fixture.js';

let fx: E2eFixture;

beforeAll(async () => {
  fx = await createE2eFixture();
});

afterAll(async () => {
  await fx?.close();
});

async function identities(files: readonly string[]): Promise<FileIdentity[]> {
  return Promise.all(files.map(readIdentity));
}

describe('staplerd once: layouts, freshness and --force', () => {
  let certsDir: string;
  let liveDir: string;
  let archiveDir: string;
  /** [staple file, reference leaf PEM] for every staple the layouts should get. */
  let expected: [string, string][];
  let chainPem: string;
  let privkeyPem: string;

  beforeAll(async () => {
    certsDir = await fx.makeDir('layouts/certs');
    const letsencrypt = await fx.makeDir('layouts/letsencrypt');
    const [site, haproxy, certbot] = await Promise.all([
      fx.issueLeaf({ commonName: 'site.test' }),
      fx.issueLeaf({ commonName: 'haproxy.test' }),
      fx.issueLeaf({ commonName: 'certbot.test' }),
    ]);
    const sitePem = await fx.pki.writeLeaf(certsDir, site, 'fullchain', 'site');
    const haproxyPem = await fx.pki.writeLeaf(certsDir, haproxy, 'haproxy', 'haproxy');
    // certbot: live/NAME/*.pem are symlinks into archive/NAME/*1.pem; staplerd is pointed at live/, as operators do.
    await writeLeafFiles(fx.pki.authority, letsencrypt, certbot, 'certbot', 'certbot.test');
    liveDir = path.join(letsencrypt, 'live', 'certbot.test');
    archiveDir = path.join(letsencrypt, 'archive', 'certbot.test');
    chainPem = path.join(liveDir, 'chain.pem');
    privkeyPem = path.join(liveDir, 'privkey.pem');
    const certbotRef = await fx.writeReferencePem(certbot);
    expected = [
      [`${sitePem.certFile}.ocsp`, await fx.writeReferencePem(site)],
      [`${haproxyPem.certFile}.ocsp`, await fx.writeReferencePem(haproxy)],
      [path.join(liveDir, 'cert.pem.ocsp'), certbotRef],
      [path.join(liveDir, 'fullchain.pem.ocsp'), certbotRef],
    ];
  });

  const runLayouts = (...extra: string[]) => fx.once(['--certs', certsDir, '--certs', path.join(path.dirname(liveDir)), ...extra]);

  it('writes a valid staple for a full chain, the certbot live/ links and an HAProxy combined PEM, and exits 0', async () => {
    const before = fx.responder.requestCount;
    const result = await runLayouts();

    expect(result.stderr).not.toMatch(/ error /);
    expectExitCode(result, 0);
    // One line per written certificate, then the totals.
    expect(result.stdout).toMatch(/^written +CN=site\.test.*: good until .* -> .*site\.pem\.ocsp$/m);
    expect(result.stdout).toMatch(/^written +CN=haproxy\.test.*: good until .*haproxy\.pem\.ocsp$/m);
    expect(result.stdout).toMatch(/^written +CN=certbot\.test.*cert\.pem\.ocsp, .*fullchain\.pem\.ocsp$/m);
    expect(result.stdout).toMatch(/^3 certificates: 3 written \(\d+\.\d\d s\)$/m);
    // The certbot leaf lives in cert.pem and fullchain.pem but is fetched once.
    expect(fx.responder.requestCount - before).toBe(3);
    for (const [staple, leafPem] of expected) {
      const verdict = await verifyWithOpenssl(staple, leafPem, fx);
      expect({ staple, verified: verdict.verified, status: verdict.status }).toEqual({ staple, verified: true, status: 'good' });
    }
  });

  it('skips certbot chain.pem and privkey.pem quietly and never prints key material', async () => {
    // Relies on the pass of the previous test.
    expect(await exists(`${chainPem}.ocsp`)).toBe(false);
    expect(await exists(`${privkeyPem}.ocsp`)).toBe(false);
    const result = await runLayouts();
    expect(linesWith(result.stdout + result.stderr, chainPem)).toEqual([]);
    expect(linesWith(result.stdout + result.stderr, privkeyPem)).toEqual([]);
    expect(result.stdout + result.stderr).not.toContain('PRIVATE KEY');
    // The staples follow the stable live/ names, never the versioned archive files.
    expect((await listFiles(archiveDir)).filter((f) => f.endsWith('.ocsp'))).toEqual([]);
  });

  it('writes staples with mode 0644 and leaves no temp files', async () => {
    for (const [staple] of expected) expect({ staple, mode: (await stat(staple)).mode & 0o777 }).toEqual({ staple, mode: 0o644 });
    expect(await listTempFiles(path.join(fx.root, 'layouts'))).toEqual([]);
  });

  it('makes no request and touches no file when every staple is fresh', async () => {
    const staples = expected.map(([staple]) => staple);
    const before = await identities(staples);
    const requestsBefore = fx.responder.requestCount;

    const result = await runLayouts();

    expectExitCode(result, 0);
    expect(fx.responder.requestCount).toBe(requestsBefore);
    expect(await identities(staples)).toEqual(before);
    expect(result.stdout).toMatch(/^3 certificates: 3 fresh /m);
    expect(result.stdout).not.toMatch(/^written/m);
  });

  it('fetches again with --force and replaces each staple with the newer response', async () => {
    const staples = expected.map(([staple]) => staple);
    const before = await identities(staples);
    const requestsBefore = fx.responder.requestCount;
    fx.advanceResponderClock(10_000);

    const result = await runLayouts('--force');

    expectExitCode(result, 0);
    expect(fx.responder.requestCount - requestsBefore).toBe(3);
    const after = await identities(staples);
    for (const [index, staple] of staples.entries()) expect({ staple, changed: after[index]!.bytes !== before[index]!.bytes }).toEqual({ staple, changed: true });
    for (const [staple, leafPem] of expected) expect((await verifyWithOpenssl(staple, leafPem, fx)).status).toBe('good');
  });

  it('leaves the staple untouched and exits 0 when the responder replays an older response', async () => {
    const staples = expected.map(([staple]) => staple);
    const before = await identities(staples);
    const requestsBefore = fx.responder.requestCount;
    fx.responder.setFault('stale');
    let result;
    try {
      result = await runLayouts('--force');
    } finally {
      fx.responder.setFault('none');
    }

    expect(fx.responder.requestCount - requestsBefore).toBe(3);
    expect(await identities(staples)).toEqual(before);
    expectExitCode(result, 0);
    expect(linesWith(result.stderr, 'staple.kept').length).toBe(4);
    expect(result.stdout).not.toMatch(/^written/m);
  });
});

describe('staplerd check on the written staples', () => {
  let staple: string;
  let ownRef: string;
  let otherRef: string;

  beforeAll(async () => {
    const dir = await fx.makeDir('check');
    const [own, other] = await Promise.all([fx.issueLeaf({ commonName: 'check.test' }), fx.issueLeaf({ commonName: 'other.test' })]);
    staple = `${(await fx.pki.writeLeaf(dir, own, 'fullchain', 'check')).certFile}.ocsp`;
    ownRef = await fx.writeReferencePem(own);
    otherRef = await fx.writeReferencePem(other);
    const result = await fx.once(['--certs', dir]);
    if (result.code !== 0) throw new Error(`set-up pass failed:\n${result.stdout}${result.stderr}`);
  });

  it('accepts a staple written by once for its own certificate', async () => {
    const result = await runCli(['check', staple, '--cert', ownRef, '--issuer', fx.intermediateFile]);
    expectExitCode(result, 0);
    expect(result.stdout).toMatch(/^valid: .*: status good, serial [0-9a-f]+, .*signed by /m);
  });

  it('rejects the same staple for another certificate with RESPONSE_CERTID_MISMATCH and exit 1', async () => {
    const result = await runCli(['check', staple, '--cert', otherRef, '--issuer', fx.intermediateFile, '--json']);
    expectExitCode(result, 1);
    expect(JSON.parse(result.stdout)).toMatchObject({ file: staple, valid: false, code: 'RESPONSE_CERTID_MISMATCH' });
  });
});

describe('staplerd once --out', () => {
  it('mirrors the certificate tree under the output directory and writes nothing beside the certificates', async () => {
    const letsencrypt = await fx.makeDir('mirror/letsencrypt');
    const out = path.join(fx.root, 'mirror', 'out');
    const leaf = await fx.issueLeaf({ commonName: 'mirror.test' });
    await writeLeafFiles(fx.pki.authority, letsencrypt, leaf, 'certbot', 'mirror.test');

    const result = await fx.once(['--certs', letsencrypt, '--out', out]);

    expectExitCode(result, 0);
    const ref = await fx.writeReferencePem(leaf);
    for (const name of ['fullchain.pem.ocsp', 'cert.pem.ocsp']) {
      const staple = path.join(out, 'live', 'mirror.test', name);
      expect((await verifyWithOpenssl(staple, ref, fx)).status).toBe('good');
      expect((await stat(staple)).mode & 0o777).toBe(0o644);
    }
    expect((await listFiles(letsencrypt)).filter((f) => f.endsWith('.ocsp'))).toEqual([]);
    expect(await listTempFiles(path.join(fx.root, 'mirror'))).toEqual([]);
  });
});

describe('staplerd once: revocation, no OCSP URL, renewal', () => {
  it('writes the revoked response as the staple, logs an error and exits 1', async () => {
    const dir = await fx.makeDir('revoked');
    const leaf = await fx.issueLeaf({ commonName: 'revoked.test' });
    fx.responder.setStatus(leaf.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(Date.now() - 3_600_000), reason: 1 });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'revoked');

    const result = await fx.once(['--certs', dir]);

    expectExitCode(result, 1);
    expect(result.stdout).toMatch(/^REVOKED +CN=revoked\.test/m);
    expect(result.stdout).toMatch(/1 revoked/);
    expect(linesWith(result.stderr, 'cert.revoked').join('\n')).toMatch(/ error +cert\.revoked: .*CERT_REVOKED/);
    expect(linesWith(result.stderr, 'cert.revoked').join('\n')).toContain(certFile);
    expect((await verifyWithOpenssl(`${certFile}.ocsp`, await fx.writeReferencePem(leaf), fx)).status).toBe('revoked');
  });

  it('removes the good staple of a certificate found revoked with --revoked-action remove', async () => {
    const dir = await fx.makeDir('revoked-remove');
    const leaf = await fx.issueLeaf({ commonName: 'revoked-remove.test' });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'site');
    const first = await fx.once(['--certs', dir]);
    expectExitCode(first, 0);
    expect(await exists(`${certFile}.ocsp`)).toBe(true);

    fx.responder.setStatus(leaf.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(Date.now() - 60_000) });
    const result = await fx.once(['--certs', dir, '--force', '--revoked-action', 'remove']);

    expectExitCode(result, 1);
    expect(await exists(`${certFile}.ocsp`)).toBe(false);
    expect(linesWith(result.stderr, 'staple.removed').join('\n')).toContain(`${certFile}.ocsp`);
    expect(result.stdout).toMatch(/^REVOKED +CN=revoked-remove\.test/m);
  });

  it('reports a certificate without an OCSP URL as not applicable, requests nothing and exits 0', async () => {
    const dir = await fx.makeDir('no-ocsp');
    const leaf = await fx.issueLeaf({ commonName: 'no-ocsp.test', ocspUrls: [] });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'no-ocsp');
    const before = fx.responder.requestCount;

    const result = await fx.once(['--certs', dir]);

    expectExitCode(result, 0);
    expect(result.stdout).toContain(`${certFile}: no OCSP URL (not applicable)`);
    expect(result.stdout).toMatch(/^1 certificates: 1 not-applicable /m);
    expect(fx.responder.requestCount).toBe(before);
    expect(await exists(`${certFile}.ocsp`)).toBe(false);
  });

  it('replaces the staple at once when the certificate in the file is renewed', async () => {
    const dir = await fx.makeDir('renewal');
    const old = await fx.issueLeaf({ commonName: 'renew.test' });
    const { certFile } = await fx.pki.writeLeaf(dir, old, 'fullchain', 'renew');
    expectExitCode(await fx.once(['--certs', dir]), 0);
    const oldRef = await fx.writeReferencePem(old);
    expect((await verifyWithOpenssl(`${certFile}.ocsp`, oldRef, fx)).status).toBe('good');

    const renewed = await fx.issueLeaf({ commonName: 'renew.test' });
    expect(renewed.certificate.summary.serialHex).not.toBe(old.certificate.summary.serialHex);
    await fx.pki.writeLeaf(dir, renewed, 'fullchain', 'renew');
    const result = await fx.once(['--certs', dir]);

    expectExitCode(result, 0);
    expect(result.stdout).toMatch(/^written +CN=renew\.test/m);
    expect((await verifyWithOpenssl(`${certFile}.ocsp`, await fx.writeReferencePem(renewed), fx)).status).toBe('good');
    // openssl finds no SingleResponse for the old certificate in the new staple.
    const forOld = await verifyWithOpenssl(`${certFile}.ocsp`, oldRef, fx);
    expect(forOld.status).toBe('ERROR');
    expect(forOld.output).toContain('No Status found');
  });
});

// Keep the directory helpers honest: an empty listing would make the "no temp files" checks pass vacuously.
describe('e2e fixture', () => {
  it('lists files below a directory, including those of the layouts', async () => {
    expect((await listFiles(path.join(fx.root, 'layouts'))).some((f) => f.endsWith('.pem.ocsp'))).toBe(true);
  });
});
