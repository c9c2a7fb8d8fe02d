// End to end: bad answers, bad files and missing issuers never cost a valid staple, and each failure names its file and code.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Fault } from '../../src/demo/ocsp-responder.js';
import { signOcspResponse } from '../../src/demo/sign-ocsp-response.js';
import { runCli } from '../helpers/run-cli.js';
import { describeWithTmpfs, mountSmallTmpfs, type SmallTmpfs } from '../helpers/small-tmpfs.js';
import { closedPortUrl, createE2eFixture, exists, expectExitCode, linesWith, readIdentity, verifyWithOpenssl, type E2eFixture } from './e2e-fixture.js';

const DAY_MS = 24 * 60 * 60 * 1000;

interface BadAnswer {
  readonly name: string;
  readonly fault: Fault;
  readonly args?: readonly string[];
  readonly code: RegExp;
}

let fx: E2eFixture;
let closedUrl: string;

// Each case gets its own directory holding "kept" (a valid staple from the set-up pass) and "fresh" (no staple yet).
const BAD_ANSWERS: readonly BadAnswer[] = [
  { name: 'is down (closed port)', fault: 'none', code: /FETCH_NETWORK/ },
  { name: 'answers HTTP 500', fault: 'http-500', code: /FETCH_HTTP_STATUS/ },
  { name: 'answers an HTML page', fault: 'html', code: /RESPONSE_MALFORMED/ },
  { name: 'answers a truncated response', fault: 'truncated', code: /RESPONSE_MALFORMED/ },
  { name: 'answers an oversized body', fault: 'oversized', code: /FETCH_TOO_LARGE/ },
  { name: 'signs with the wrong key', fault: 'wrong-key', code: /RESPONSE_UNVERIFIED/ },
  { name: 'answers for another serial', fault: 'other-serial', code: /RESPONSE_CERTID_MISMATCH/ },
  { name: 'says tryLater', fault: 'try-later', code: /RESPONSE_TRY_LATER/ },
  { name: 'answers an expired response', fault: 'expired', code: /RESPONSE_EXPIRED/ },
  { name: 'hangs past --timeout', fault: 'hang', args: ['--timeout', '1'], code: /FETCH_TIMEOUT/ },
];

const caseDir = (bad: BadAnswer): string => path.join(fx.root, 'faults', bad.fault === 'none' ? 'down' : bad.fault);

beforeAll(async () => {
  fx = await createE2eFixture();
  closedUrl = await closedPortUrl();
  for (const bad of BAD_ANSWERS) {
    await fx.makeDir(path.relative(fx.root, caseDir(bad)));
    await fx.pki.writeLeaf(caseDir(bad), await fx.issueLeaf({ commonName: 'kept.test' }), 'fullchain', 'kept');
  }
  const setUp = await fx.once(['--certs', path.join(fx.root, 'faults')]);
  if (setUp.code !== 0) throw new Error(`set-up pass failed:\n${setUp.stdout}\n${setUp.stderr}`);
  for (const bad of BAD_ANSWERS) {
    await fx.pki.writeLeaf(caseDir(bad), await fx.issueLeaf({ commonName: 'fresh.test' }), 'fullchain', 'fresh');
  }
});

afterAll(async () => {
  await fx?.close();
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function onceWithFault(fault: Fault, args: readonly string[]) {
  fx.responder.setFault(fault);
  try {
    return await fx.once(args);
  } finally {
    fx.responder.setFault('none');
  }
}

describe('staplerd once with a misbehaving responder', () => {
  it.each(BAD_ANSWERS)('keeps the existing staple, names each file and its code, and exits 1 when the responder $name', async (bad) => {
    const dir = caseDir(bad);
    const kept = path.join(dir, 'kept.pem');
    const fresh = path.join(dir, 'fresh.pem');
    const before = await readIdentity(`${kept}.ocsp`);
    const responderArgs = bad.fault === 'none' ? ['--responder', closedUrl] : [];

    const result = await onceWithFault(bad.fault, ['--certs', dir, '--force', ...responderArgs, ...(bad.args ?? [])]);

    expectExitCode(result, 1);
    expect(await readIdentity(`${kept}.ocsp`)).toEqual(before);
    expect(await exists(`${fresh}.ocsp`)).toBe(false);
    for (const file of [kept, fresh]) {
      const logged = linesWith(result.stderr, `file=${file}`).filter((line) => line.includes('fetch.failed'));
      expect({ file, logged: logged.length === 1 && bad.code.test(logged[0]!) }).toEqual({ file, logged: true });
    }
    // Errors name the responder, not the GET URL with the whole base64 request in it.
    for (const url of [fx.responder.url, closedUrl]) {
      expect(result.stderr + result.stdout).not.toMatch(new RegExp(`${escapeRegExp(url.replace(/\/$/, ''))}/M[A-Za-z0-9%+/=]{20,}`));
    }
    expect(result.stdout).toMatch(new RegExp(`^failed +${kept}: (${bad.code.source}): .*\\(current staple kept\\)$`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^failed +${fresh}: (${bad.code.source}): `, 'm'));
  });

  it('exits 0 when a refresh fails but the previous staple is still valid and good (docs/cli.md: the site still staples)', async () => {
    const dir = caseDir(BAD_ANSWERS.find((bad) => bad.fault === 'http-500')!);
    const kept = path.join(dir, 'kept.pem');
    const only = await fx.makeDir('kept-only');
    await copyFile(kept, path.join(only, 'kept.pem'));
    await copyFile(`${kept}.ocsp`, path.join(only, 'kept.pem.ocsp'));
    const before = await readIdentity(path.join(only, 'kept.pem.ocsp'));

    const result = await onceWithFault('http-500', ['--certs', only, '--force']);

    expectExitCode(result, 0);
    expect(await readIdentity(path.join(only, 'kept.pem.ocsp'))).toEqual(before);
    expect(result.stdout).toMatch(/^failed .*FETCH_HTTP_STATUS.*\(current staple kept\)$/m);
  });
});

describe('staplerd once when the CA stops vouching', () => {
  it('exits 1 on an "unknown" answer even though the older good staple is kept', async () => {
    const dir = await fx.makeDir('unknown-kept');
    const leaf = await fx.issueLeaf({ commonName: 'unknown-kept.test' });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'site');
    expectExitCode(await fx.once(['--certs', dir]), 0);
    const before = await readIdentity(`${certFile}.ocsp`);
    fx.responder.setStatus(leaf.certificate.summary.serialHex, { status: 'unknown' });

    const result = await fx.once(['--certs', dir, '--force']);

    expectExitCode(result, 1);
    expect(await readIdentity(`${certFile}.ocsp`)).toEqual(before);
    expect(result.stdout).toMatch(/CERT_STATUS_UNKNOWN/);
  });
});

describe('staplerd once --out with several certificate directories', () => {
  it('writes no staple where two different certificates would share one path, removes one already there, and names both files', async () => {
    const out = await fx.makeDir('conflict/out');
    const dirs = [await fx.makeDir('conflict/a'), await fx.makeDir('conflict/b')];
    const files: string[] = [];
    for (const [index, dir] of dirs.entries()) {
      files.push((await fx.pki.writeLeaf(dir, await fx.issueLeaf({ commonName: `conflict-${index}.test` }), 'certbot', 'x')).certFile);
    }
    const shared = path.join(out, path.relative(dirs[0]!, files[0]!) + '.ocsp');
    expect(path.join(out, path.relative(dirs[1]!, files[1]!) + '.ocsp')).toBe(shared);
    // The first directory alone staples that path; adding the second makes it ambiguous.
    expectExitCode(await fx.once(['--certs', dirs[0]!, '--out', out]), 0);
    expect(await exists(shared)).toBe(true);

    const result = await fx.once(['--certs', dirs[0]!, '--certs', dirs[1]!, '--out', out]);

    expectExitCode(result, 1);
    // Removed, not left to be served with the other site's certificate until it expires.
    expect(await exists(shared)).toBe(false);
    for (const file of files) expect(result.stdout).toMatch(new RegExp(`^failed +${escapeRegExp(file)}: OUTPUT_CONFLICT`, 'm'));
  });

  it('shares one staple path happily when both directories hold the same certificate', async () => {
    const out = await fx.makeDir('same/out');
    const leaf = await fx.issueLeaf({ commonName: 'same.test' });
    const dirs = [await fx.makeDir('same/a'), await fx.makeDir('same/b')];
    for (const dir of dirs) await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'site');

    const result = await fx.once(['--certs', dirs[0]!, '--certs', dirs[1]!, '--out', out]);

    expectExitCode(result, 0);
    expect(await exists(path.join(out, 'site.pem.ocsp'))).toBe(true);
  });
});

describe('staplerd once with a single certificate file as --certs', () => {
  it('staples that file beside it, as for a directory', async () => {
    const dir = await fx.makeDir('single-file');
    const { certFile } = await fx.pki.writeLeaf(dir, await fx.issueLeaf({ commonName: 'single.test' }), 'haproxy', 'single');

    const result = await fx.once(['--certs', certFile]);

    expectExitCode(result, 0);
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
  });
});

describe('staplerd once with a missing certificate directory', () => {
  it('exits 1 naming the directory and DIRECTORY_UNREADABLE instead of reporting "0 certificates"', async () => {
    const missing = path.join(fx.root, 'no-such-certs-dir');

    const result = await fx.once(['--certs', missing]);

    expectExitCode(result, 1);
    expect(result.stdout).toMatch(new RegExp(`^failed +${missing}: DIRECTORY_UNREADABLE`, 'm'));
    expect(linesWith(result.stderr, missing).some((line) => line.includes('scan.failed'))).toBe(true);
  });
});

describe('staplerd once with bad files', () => {
  it('reports a corrupt PEM file on its own CERT_PARSE_FAILED line and still staples the other certificates', async () => {
    const dir = await fx.makeDir('corrupt');
    const corrupt = path.join(dir, 'corrupt.pem');
    await writeFile(corrupt, '-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGUgYXQgYWxs\n-----END CERTIFICATE-----\n');
    const leaf = await fx.issueLeaf({ commonName: 'beside-corrupt.test' });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'good');

    const result = await fx.once(['--certs', dir]);

    expectExitCode(result, 1);
    expect(result.stdout).toMatch(new RegExp(`^failed +${corrupt}: CERT_PARSE_FAILED`, 'm'));
    const logged = linesWith(result.stderr, corrupt);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/ error +cert\.invalid: .*code=CERT_PARSE_FAILED/);
    expect((await verifyWithOpenssl(`${certFile}.ocsp`, await fx.writeReferencePem(leaf), fx)).status).toBe('good');
    expect(await exists(`${corrupt}.ocsp`)).toBe(false);
  });

  it('reports ISSUER_NOT_FOUND naming the file when the issuer is nowhere to be found, and requests nothing', async () => {
    const dir = await fx.makeDir('orphan');
    // The leaf alone: no chain in the file, no sibling chain.pem, no --issuer-dir, no AIA caIssuers URL.
    const leaf = await fx.issueLeaf({ commonName: 'orphan.test', caIssuersUrls: [] });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'leaf', 'orphan');
    const before = fx.responder.requestCount;

    const result = await fx.once(['--certs', dir]);

    expectExitCode(result, 1);
    expect(fx.responder.requestCount).toBe(before);
    expect(linesWith(result.stderr, 'ISSUER_NOT_FOUND').join('\n')).toContain(`file=${certFile}`);
    expect(result.stdout).toMatch(new RegExp(`^failed +${certFile}: ISSUER_NOT_FOUND`, 'm'));
    expect(await exists(`${certFile}.ocsp`)).toBe(false);
  });

  it('removes an expired staple when no fresh response can be fetched', async () => {
    const dir = await fx.makeDir('expired-staple');
    const leaf = await fx.issueLeaf({ commonName: 'expired-staple.test' });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'site');
    const now = Date.now();
    const expired = await signOcspResponse({
      signer: fx.pki.authority.responder,
      producedAt: new Date(now - 3 * DAY_MS),
      answers: [{ certId: { cert: leaf.certificate, issuer: fx.pki.authority.intermediate.certificate }, status: 'good', thisUpdate: new Date(now - 3 * DAY_MS), nextUpdate: new Date(now - 2 * DAY_MS) }],
    });
    await writeFile(`${certFile}.ocsp`, expired);

    const result = await fx.once(['--certs', dir, '--responder', closedUrl]);

    expectExitCode(result, 1);
    expect(await exists(`${certFile}.ocsp`)).toBe(false);
    expect(linesWith(result.stderr, 'staple.removed').join('\n')).toContain(`staple=${certFile}.ocsp`);
    expect(linesWith(result.stderr, 'fetch.failed').join('\n')).toContain('FETCH_NETWORK');
  });

  it("replaces a staple that belongs to another certificate with one for the file's own certificate", async () => {
    const dir = await fx.makeDir('swapped');
    const [a, b] = await Promise.all([fx.issueLeaf({ commonName: 'a.test' }), fx.issueLeaf({ commonName: 'b.test' })]);
    const fileA = (await fx.pki.writeLeaf(dir, a, 'fullchain', 'a')).certFile;
    const fileB = (await fx.pki.writeLeaf(dir, b, 'fullchain', 'b')).certFile;
    expectExitCode(await fx.once(['--certs', dir]), 0);
    await copyFile(`${fileB}.ocsp`, `${fileA}.ocsp`);
    const requestsBefore = fx.responder.requestCount;

    const result = await fx.once(['--certs', dir]);

    expectExitCode(result, 0);
    // Only a.test needed a fetch: b.test's own staple is still fresh.
    expect(fx.responder.requestCount - requestsBefore).toBe(1);
    expect((await verifyWithOpenssl(`${fileA}.ocsp`, await fx.writeReferencePem(a), fx)).status).toBe('good');
    expect(Buffer.compare(await readFile(`${fileA}.ocsp`), await readFile(`${fileB}.ocsp`))).not.toBe(0);
    expect(result.stdout).toMatch(/^written +CN=a\.test/m);
  });
});

describe('staplerd once with a responder that sends no nextUpdate (RFC 6960 4.2.2.1)', () => {
  it('writes the staple and exits 0, with the staple valid for a day after its thisUpdate', async () => {
    const dir = await fx.makeDir('no-next-update/accepted');
    const leaf = await fx.issueLeaf({ commonName: 'no-next-update.test' });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'site');

    const result = await onceWithFault('no-next-update', ['--certs', dir, '--state-dir', path.join(dir, '..', 'state-accepted')]);

    expectExitCode(result, 0);
    expect(result.stdout).toMatch(/^written +CN=no-next-update\.test: good until /m);
    const check = await runCli(['check', `${certFile}.ocsp`, '--issuer', fx.intermediateFile, '--cert', await fx.writeReferencePem(leaf), '--json'], { env: fx.env });
    expectExitCode(check, 0);
    const verdict = JSON.parse(check.stdout) as { nextUpdateImplied?: boolean; thisUpdate: string; nextUpdate: string };
    expect(verdict.nextUpdateImplied).toBe(true);
    expect(Date.parse(verdict.nextUpdate) - Date.parse(verdict.thisUpdate)).toBe(DAY_MS);

    // check judges with the same lifetime as a pass: 13 h after thisUpdate is too old for a 12 h lifetime.
    const at = new Date(Date.parse(verdict.thisUpdate) + 13 * 60 * 60 * 1000).toISOString();
    const shorter = await runCli(['check', `${certFile}.ocsp`, '--issuer', fx.intermediateFile, '--cert', await fx.writeReferencePem(leaf), '--at', at, '--lifetime-without-next-update', '12h', '--json'], { env: fx.env });
    expectExitCode(shorter, 1);
    expect(JSON.parse(shorter.stdout)).toMatchObject({ valid: false, code: 'RESPONSE_NO_NEXT_UPDATE' });
  });

  it('refuses it with RESPONSE_NO_NEXT_UPDATE and exits 1 under --lifetime-without-next-update 0', async () => {
    const dir = await fx.makeDir('no-next-update/refused');
    const { certFile } = await fx.pki.writeLeaf(dir, await fx.issueLeaf({ commonName: 'refused.test' }), 'fullchain', 'site');

    const result = await onceWithFault('no-next-update', ['--certs', dir, '--state-dir', path.join(dir, '..', 'state-refused'), '--lifetime-without-next-update', '0']);

    expectExitCode(result, 1);
    expect(result.stdout).toMatch(/^failed +\S+site\.pem: RESPONSE_NO_NEXT_UPDATE: /m);
    expect(await exists(`${certFile}.ocsp`)).toBe(false);
  });
});

describeWithTmpfs('staplerd once with a full output disk', () => {
  let tmpfs: SmallTmpfs | undefined;

  afterEach(async () => {
    await tmpfs?.unmount();
    tmpfs = undefined;
  });

  /** A certificate dir, a state dir and a small tmpfs as --out, all in their own case directory. */
  async function fullDiskCase(name: string): Promise<{ args: string[]; staple: string; stateDir: string; disk: SmallTmpfs }> {
    const caseRoot = await fx.makeDir(`full-disk/${name}`);
    const certs = await fx.makeDir(`full-disk/${name}/certs`);
    const stateDir = path.join(caseRoot, 'state');
    tmpfs = await mountSmallTmpfs(caseRoot, 'out');
    await fx.pki.writeLeaf(certs, await fx.issueLeaf({ commonName: `${name}.test` }), 'fullchain', 'site');
    return { args: ['--certs', certs, '--out', tmpfs.dir, '--state-dir', stateDir], staple: path.join(tmpfs.dir, 'site.pem.ocsp'), stateDir, disk: tmpfs };
  }

  it('exits 0 when the refresh cannot be written but the valid staple is kept, and status shows the failed write', async () => {
    const { args, staple, disk } = await fullDiskCase('kept');
    expectExitCode(await fx.once(args), 0);
    const before = await readIdentity(staple);
    await disk.fill();
    // A strictly newer answer (thisUpdate has whole seconds), so there is something to write.
    fx.advanceResponderClock(60_000);

    const result = await fx.once([...args, '--force']);

    // docs/cli.md: a failed refresh whose previous staple is still valid and good counts as good.
    expectExitCode(result, 0);
    expect(result.stdout).toMatch(/^failed +\S+site\.pem: WRITE_FAILED: .*site\.pem\.ocsp.*\(current staple kept\)$/m);
    expect(linesWith(result.stderr, 'staple.write_failed').some((line) => line.includes('WRITE_FAILED'))).toBe(true);
    expect(await readIdentity(staple)).toEqual(before);
    const status = await runCli(['status', ...args, '--json'], { env: fx.env });
    expectExitCode(status, 0);
    const [row] = (JSON.parse(status.stdout) as { certificates: { lastErrorCode?: string; consecutiveFailures: number; state: string }[] }).certificates;
    expect(row).toEqual(expect.objectContaining({ lastErrorCode: 'WRITE_FAILED', consecutiveFailures: 1 }));
  });

  it('exits 1 naming WRITE_FAILED when the disk is full and there is no staple to keep', async () => {
    const { args, staple, disk } = await fullDiskCase('empty');
    await disk.fill();

    const result = await fx.once(args);

    expectExitCode(result, 1);
    expect(result.stdout).toMatch(/^failed +\S+site\.pem: WRITE_FAILED: /m);
    expect(await exists(staple)).toBe(false);
  });
});
