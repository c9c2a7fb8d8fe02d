// Interoperability: the built staplerd fetches from OpenSSL's own OCSP responder (`openssl ocsp -index`), and openssl
// verifies what it wrote; and when OpenSSL signs with a key or certificate the issuer never authorised (or a responder
// says tryLater), staplerd names the file and code, keeps the existing staple byte for byte and writes nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { access, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IssuedIdentity } from '../../src/demo/demo-pki.js';
import { generateKeyPair } from '../../src/demo/key-pair.js';
import { issueCertificate } from '../../src/demo/issue-certificate.js';
import {
  describeResponseWithOpenssl,
  dumpResponseWithOpenssl,
  encodeOcspStatusOnlyResponse,
  startFixedAnswerResponder,
  OPENSSL_RESPONDER_URL,
  probeOpensslNamespace,
  runCliBesideOpensslResponder,
  verifyStapleWithOpenssl,
  writeOpensslResponderFiles,
  type IndexEntry,
  type NamespaceRunResult,
  type OpensslResponderFiles,
} from '../helpers/openssl-responder.js';
import { describeIfAvailable } from '../helpers/describe-if-available.js';
import { runCli } from '../helpers/run-cli.js';
import { createTestPki, makeTempDir, removeTempDir, type TestPki } from '../helpers/test-pki.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

interface Leaf {
  readonly identity: IssuedIdentity;
  /** The leaf alone, outside every certs dir (openssl -cert, `check --cert`). */
  readonly referencePem: string;
}

function describeInterop(): void {
  let pki: TestPki;
  let workDir: string;
  let rootFile: string;
  let intermediateFile: string;
  let good: Leaf;
  let revoked: Leaf;
  let unknown: Leaf;
  /** Whole seconds: index.txt keeps revocation times to the second. */
  let revokedAt: Date;
  let issuerSigned: OpensslResponderFiles;
  let delegated: OpensslResponderFiles;
  let runCount = 0;

  beforeAll(async () => {
    workDir = await makeTempDir('staplerd-openssl-ocsp-');
    pki = await createTestPki();
    const referenceDir = await makeDir('reference');
    ({ rootFile, intermediateFile } = await pki.writeCaFiles(referenceDir));
    const issue = async (commonName: string): Promise<Leaf> => {
      const identity = await pki.issueLeaf({ commonName, ocspUrls: [OPENSSL_RESPONDER_URL] });
      const referencePem = path.join(referenceDir, `${commonName}.pem`);
      await writeFile(referencePem, identity.certificate.toPem());
      return { identity, referencePem };
    };
    [good, revoked, unknown] = await Promise.all([issue('good.test'), issue('revoked.test'), issue('unknown.test')]);
    revokedAt = new Date(Math.floor((Date.now() - HOUR_MS) / 1000) * 1000);
    // The unknown leaf is left out of the index: OpenSSL answers "unknown" for serials it has no line for.
    const entries: IndexEntry[] = [
      { certificate: good.identity.certificate },
      { certificate: revoked.identity.certificate, revoked: { at: revokedAt, reason: 'keyCompromise' } },
    ];
    const { intermediate, responder } = pki.authority;
    issuerSigned = await writeOpensslResponderFiles(await makeDir('responder-issuer'), { ca: intermediate, signer: intermediate, entries });
    delegated = await writeOpensslResponderFiles(await makeDir('responder-delegated'), { ca: intermediate, signer: responder, entries });
  });

  afterAll(async () => {
    if (workDir) await removeTempDir(workDir);
  });

  async function makeDir(name: string): Promise<string> {
    const dir = path.join(workDir, name);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** A certs dir holding just this leaf as a full chain (so the issuer comes from the file). Returns the dir and its cert file. */
  async function certsDirWith(leaf: Leaf): Promise<{ dir: string; certFile: string }> {
    const dir = await makeDir(`certs-${++runCount}`);
    const { certFile } = await pki.writeLeaf(dir, leaf.identity, 'fullchain', 'site');
    return { dir, certFile };
  }

  /** `staplerd once --certs dir` in the responder's namespace; the helper gives each run a state dir of its own (no
   *  backoff carried over). */
  function onceAgainst(files: OpensslResponderFiles, dir: string, ...extra: string[]): Promise<NamespaceRunResult> {
    return runCliBesideOpensslResponder(files, ['once', '--certs', dir, ...extra], {});
  }

  /** `staplerd check --json` on a written staple (outside the namespace: it needs no network). */
  async function checkJson(staple: string, leaf: Leaf): Promise<Record<string, unknown>> {
    const result = await runCli(['check', staple, '--issuer', intermediateFile, '--cert', leaf.referencePem, '--json'], { env: { STATE_DIRECTORY: workDir } });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  function receivedRequests(run: NamespaceRunResult): number {
    return run.responderLog.split('\n').filter((line) => line.includes('Received request')).length;
  }

  function verify(staple: string, leaf: Leaf): ReturnType<typeof verifyStapleWithOpenssl> {
    return verifyStapleWithOpenssl(staple, { rootFile, intermediateFile, certFile: leaf.referencePem });
  }

  it('writes a good staple from a responder signing as the CA itself (-rsigner = the intermediate)', async () => {
    const { dir, certFile } = await certsDirWith(good);
    const run = await onceAgainst(issuerSigned, dir);

    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^written +CN=good\.test.*: good until /m) });
    expect(receivedRequests(run)).toBe(1);
    const verdict = await verify(`${certFile}.ocsp`, good);
    expect(verdict).toMatchObject({ verified: true, status: 'good' });
    expect(await checkJson(`${certFile}.ocsp`, good)).toMatchObject({ valid: true, certStatus: 'good', signedBy: 'issuer' });
  });

  it('writes a staple from a responder that sends no nextUpdate (no -nmin), valid for a day after thisUpdate', async () => {
    const { dir, certFile } = await certsDirWith(good);
    const stateDir = await makeDir(`state-${runCount}`);
    const run = await runCliBesideOpensslResponder(issuerSigned, ['once', '--certs', dir, '--state-dir', stateDir], { env: { STATE_DIRECTORY: stateDir }, nextUpdateMinutes: null });

    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^written +CN=good\.test.*: good until /m) });
    const dump = await dumpResponseWithOpenssl(`${certFile}.ocsp`);
    expect(dump).toMatch(/This Update:/);
    expect(dump).not.toMatch(/Next Update:/);
    const checked = await checkJson(`${certFile}.ocsp`, good);
    expect(checked).toMatchObject({ valid: true, certStatus: 'good', nextUpdateImplied: true });
    expect(Date.parse(checked.nextUpdate as string) - Date.parse(checked.thisUpdate as string)).toBe(24 * HOUR_MS);
  });

  it('writes a good staple from a delegated responder (-rsigner = a certificate with id-kp-OCSPSigning)', async () => {
    const { dir, certFile } = await certsDirWith(good);
    const run = await onceAgainst(delegated, dir);

    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^written +CN=good\.test.*: good until /m) });
    const verdict = await verify(`${certFile}.ocsp`, good);
    expect(verdict).toMatchObject({ verified: true, status: 'good' });
    expect(await checkJson(`${certFile}.ocsp`, good)).toMatchObject({ valid: true, certStatus: 'good', signedBy: 'delegated' });
    // Without --nonce no nonce is sent, so OpenSSL echoes none (the --nonce test relies on this difference).
    expect(await dumpResponseWithOpenssl(`${certFile}.ocsp`)).not.toMatch(/OCSP Nonce/);
  });

  it('writes the revoked staple for a revoked index entry and exits 1', async () => {
    const { dir, certFile } = await certsDirWith(revoked);
    const run = await onceAgainst(delegated, dir);

    expect(run).toMatchObject({ code: 1, stdout: expect.stringMatching(/^REVOKED +CN=revoked\.test.*staple .*site\.pem\.ocsp$/m) });
    const verdict = await verify(`${certFile}.ocsp`, revoked);
    expect(verdict).toMatchObject({ verified: true, status: 'revoked' });
    expect(await checkJson(`${certFile}.ocsp`, revoked)).toMatchObject({
      valid: true,
      certStatus: 'revoked',
      revocationTime: revokedAt.toISOString(),
      revocationReason: 'keyCompromise',
    });
  });

  it('exits 1 with CERT_STATUS_UNKNOWN and writes no staple for a serial missing from the index', async () => {
    const { dir } = await certsDirWith(unknown);
    const run = await onceAgainst(delegated, dir);

    expect(run).toMatchObject({ code: 1, stdout: expect.stringMatching(/^unknown +CN=unknown\.test.*\[CERT_STATUS_UNKNOWN\]$/m) });
    // The answer came from OpenSSL (not from failing to reach it), and nothing was written for it.
    expect(receivedRequests(run)).toBe(1);
    expect((await readdir(dir)).filter((name) => name.includes('.ocsp'))).toEqual([]);
  });

  it('sends a nonce with --nonce, accepts the one OpenSSL echoes, and the staple verifies', async () => {
    const { dir, certFile } = await certsDirWith(good);
    const run = await onceAgainst(delegated, dir, '--nonce');

    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^written +CN=good\.test.*: good until /m) });
    await expect(access(`${certFile}.ocsp`)).resolves.toBeUndefined();
    expect(await dumpResponseWithOpenssl(`${certFile}.ocsp`)).toMatch(/OCSP Nonce:\s*\n\s*[0-9A-F]{4,}/);
    const verdict = await verify(`${certFile}.ocsp`, good);
    expect(verdict).toMatchObject({ verified: true, status: 'good' });
  });

  describe('when OpenSSL signs with what the issuer never authorised', () => {
    /** Whom OpenSSL signs as (-rsigner/-rkey), and what staplerd must say about its answers (RFC 6960 4.2.2.2). */
    const BAD_SIGNERS = [
      { name: 'a delegated responder certificate issued by another CA', code: 'RESPONDER_UNAUTHORIZED' },
      // The responderID (byName) names our issuer, so the issuer's key is the one tried, and it does not verify.
      { name: 'another key under the issuer\'s own name', code: 'RESPONSE_UNVERIFIED' },
      { name: 'a certificate of the issuer without id-kp-OCSPSigning', code: 'RESPONDER_UNAUTHORIZED' },
      { name: 'an expired delegated responder certificate', code: 'RESPONDER_UNAUTHORIZED' },
      { name: 'a responder certified by a sibling intermediate of the same root', code: 'RESPONDER_UNAUTHORIZED' },
    ] as const;
    type BadSignerName = (typeof BAD_SIGNERS)[number]['name'];
    const signerFiles = new Map<BadSignerName, OpensslResponderFiles>();
    let failuresRoot: string;
    let tryLaterDir: string;

    /** A certs dir per case: "kept" (stapled by a good pass below) and "fresh" (no staple yet), both in the index. */
    const caseDir = (name: string): string => path.join(failuresRoot, name.replace(/[^a-z0-9]+/gi, '-'));

    beforeAll(async () => {
      failuresRoot = await makeDir('failure-modes');
      const { root, intermediate } = pki.authority;
      const now = Date.now();
      // Another CA built the same way: its intermediate and responder carry exactly our issuer's and responder's names.
      const stranger = await createTestPki();
      const [noEkuKeys, expiredKeys, siblingKeys, siblingResponderKeys] = await Promise.all([
        generateKeyPair('ec-p256'), generateKeyPair('ec-p256'), generateKeyPair('ec-p256'), generateKeyPair('ec-p256'),
      ]);
      // Issued by our intermediate, but as an ordinary TLS certificate (EKU serverAuth only).
      const noEku = { keys: noEkuKeys, certificate: await issueCertificate({ subject: { commonName: 'OCSP responder without EKU', organization: 'staplerd demo' }, keys: noEkuKeys, issuer: intermediate }) };
      const expired = {
        keys: expiredKeys,
        certificate: await issueCertificate({ subject: { commonName: 'Expired OCSP responder', organization: 'staplerd demo' }, keys: expiredKeys, issuer: intermediate, ocspSigning: true, notBefore: new Date(now - 30 * DAY_MS), notAfter: new Date(now - DAY_MS) }),
      };
      // Same root, other intermediate: a chain a trust store would accept, but RFC 6960 4.2.2.2 wants the issuer itself.
      const sibling = { keys: siblingKeys, certificate: await issueCertificate({ subject: { commonName: 'Sibling Intermediate CA', organization: 'staplerd demo' }, keys: siblingKeys, issuer: root, isCA: true }) };
      const siblingResponder = { keys: siblingResponderKeys, certificate: await issueCertificate({ subject: { commonName: 'Sibling OCSP responder', organization: 'staplerd demo' }, keys: siblingResponderKeys, issuer: sibling, ocspSigning: true }) };

      const signers: Record<BadSignerName, IssuedIdentity> = {
        'a delegated responder certificate issued by another CA': stranger.authority.responder,
        'another key under the issuer\'s own name': stranger.authority.intermediate,
        'a certificate of the issuer without id-kp-OCSPSigning': noEku,
        'an expired delegated responder certificate': expired,
        'a responder certified by a sibling intermediate of the same root': siblingResponder,
      };
      const keptLeaves: IssuedIdentity[] = [];
      const freshLeaves: IssuedIdentity[] = [];
      const dirs = [...BAD_SIGNERS.map((bad) => caseDir(bad.name)), (tryLaterDir = caseDir('try-later'))];
      for (const [index, dir] of dirs.entries()) {
        await mkdir(dir, { recursive: true });
        const kept = await pki.issueLeaf({ commonName: `kept-${index}.test`, ocspUrls: [OPENSSL_RESPONDER_URL] });
        await pki.writeLeaf(dir, kept, 'fullchain', 'kept');
        keptLeaves.push(kept);
      }
      const entries = (): IndexEntry[] => [...keptLeaves, ...freshLeaves].map((leaf) => ({ certificate: leaf.certificate }));
      // The set-up pass: OpenSSL signing as the issuer staples every "kept" leaf.
      const goodFiles = await writeOpensslResponderFiles(await makeDir('responder-failure-setup'), { ca: intermediate, signer: intermediate, entries: entries() });
      const setUp = await onceAgainst(goodFiles, failuresRoot);
      if (setUp.code !== 0) throw new Error(`set-up pass failed:\n${setUp.stdout}\n${setUp.stderr}`);
      for (const [index, dir] of dirs.entries()) {
        const fresh = await pki.issueLeaf({ commonName: `fresh-${index}.test`, ocspUrls: [OPENSSL_RESPONDER_URL] });
        await pki.writeLeaf(dir, fresh, 'fullchain', 'fresh');
        freshLeaves.push(fresh);
      }
      for (const { name } of BAD_SIGNERS) {
        const responderDir = await makeDir(path.join('responders', path.basename(caseDir(name))));
        signerFiles.set(name, await writeOpensslResponderFiles(responderDir, { ca: intermediate, signer: signers[name], entries: entries() }));
      }
    });

    /** Bytes, inode and mtime: "kept" means not rewritten either, not merely rewritten with the same bytes. */
    async function readIdentity(file: string): Promise<{ ino: number; mtimeMs: number; base64: string }> {
      const info = await stat(file);
      return { ino: info.ino, mtimeMs: info.mtimeMs, base64: (await readFile(file)).toString('base64') };
    }

    /** Exit 1; the kept staple untouched; no staple (nor temp file) for the fresh leaf; each file named with the code. */
    async function expectRefused(dir: string, code: string, run: () => Promise<{ code: number | null; stdout: string; stderr: string }>): Promise<void> {
      const kept = path.join(dir, 'kept.pem');
      const fresh = path.join(dir, 'fresh.pem');
      const before = await readIdentity(`${kept}.ocsp`);

      const result = await run();

      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: expect.stringContaining(code) });
      expect(await readIdentity(`${kept}.ocsp`)).toEqual(before);
      expect((await readdir(dir)).sort()).toEqual(['fresh.key', 'fresh.pem', 'kept.key', 'kept.pem', 'kept.pem.ocsp']);
      expect(result.stdout).toMatch(new RegExp(`^failed +${kept}: ${code}: .*\\(current staple kept\\)$`, 'm'));
      expect(result.stdout).toMatch(new RegExp(`^failed +${fresh}: ${code}: `, 'm'));
      for (const file of [kept, fresh]) {
        const logged = result.stderr.split('\n').filter((line) => line.includes(`file=${file}`) && line.includes('fetch.failed'));
        expect({ file, logged: logged.length === 1 && logged[0]!.includes(code) }).toEqual({ file, logged: true });
      }
    }

    it.each(BAD_SIGNERS)('keeps the existing staple and writes nothing when OpenSSL signs with $name ($code)', async ({ name, code }) => {
      const files = signerFiles.get(name)!;
      const dir = caseDir(name);
      let run: NamespaceRunResult | undefined;
      await expectRefused(dir, code, async () => (run = await onceAgainst(files, dir, '--force')));
      // OpenSSL really answered both (the refusal is about its signature, not a failure to reach it).
      expect(receivedRequests(run!)).toBe(2);
    });

    it('keeps the existing staple and writes nothing when the responder says tryLater (RESPONSE_TRY_LATER)', async () => {
      const body = encodeOcspStatusOnlyResponse('tryLater');
      // The body is what OpenSSL itself reads as tryLater: the test's own encoding is checked independently.
      const bodyFile = path.join(workDir, 'try-later.der');
      await writeFile(bodyFile, body);
      expect(await describeResponseWithOpenssl(bodyFile)).toMatch(/^Responder Error: trylater \(3\)$/m);
      const responder = await startFixedAnswerResponder(body);
      try {
        await expectRefused(tryLaterDir, 'RESPONSE_TRY_LATER', () => runCli(['once', '--certs', tryLaterDir, '--force', '--responder', responder.url]));
        expect(responder.requestCount).toBe(2);
      } finally {
        await responder.close();
      }
    });
  });
}

describeIfAvailable('staplerd once against OpenSSL\'s OCSP responder (in a network namespace)', probeOpensslNamespace(), {
  what: 'needs openssl and "unshare -n" (root)',
  remedy: 'CI must run it as root with openssl installed (.ci/run)',
  skipHint: 'These tests need root for "unshare -n"; CI=true makes this a failure.',
}, describeInterop);
