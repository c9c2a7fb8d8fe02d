// The validation cache in the state directory: a restart with fresh staples verifies no signature and decodes no
// certificate or staple again, and nothing it remembers ever makes a changed certificate, a changed staple, another
// issuer or an expired staple acceptable.
import { describe, it, expect, beforeAll, beforeEach } from '@jest/globals';
import { chmod, chown, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StaplerdError } from '../../src/errors/index.js';
import { Certificate } from '../../src/pki/certificate.js';
import { validateOcspResponse } from '../../src/pki/ocsp-response.js';
import { readCertificateFile } from '../../src/pki/pem.js';
import { createValidationMemos } from '../../src/pki/validation-memos.js';
import {
  decodedFactsFilePath, loadValidationCache, saveValidationCache, validationCacheFilePath, type ValidationCacheCounts,
  describeDecodedFactsProducer,
} from '../../src/state/validation-cache.js';
import { decodeDecodedFacts, encodeDecodedFacts, type DecodedFactsEntries } from '../../src/state/decoded-facts-file.js';
import { VERSION } from '../../src/version.js';
import { createTestPki, makeTempDir, removeTempDirsAfterAll, type TestPki } from '../helpers/test-pki.js';
import { createPassFixture, HOUR_MS, OCSP_URL, readBytes, readStaple, T0, type PassFixture } from './pass-fixture.js';

let pki: TestPki;
let lookAlike: TestPki;
const dirs = removeTempDirsAfterAll();

beforeAll(async () => {
  pki = await createTestPki({ now: T0 });
  // Same names as pki's CAs, other keys.
  lookAlike = await createTestPki({ now: T0 });
});

/** The memos `once` and `run` create, load, hand to every pass and save. */
const memos = createValidationMemos();
const { signatures: signatureMemo, certificates: certificateFactsMemo, responses: ocspResponseFactsMemo } = memos;

/** What a new process starts with: no memo in memory. */
function clearMemos(): void {
  signatureMemo.clear();
  certificateFactsMemo.clear();
  ocspResponseFactsMemo.clear();
}

beforeEach(() => {
  clearMemos();
});

interface Scenario {
  fx: PassFixture;
  certFile: string;
  stapleFile: string;
  stateDir: string;
}

/** One fullchain file, stapled by a first pass; the memo is then saved and the "process" restarted. */
async function stapledThenRestarted(): Promise<Scenario> {
  const fx = await createPassFixture(pki, dirs, {}, memos);
  const stateDir = await makeTempDir('staplerd-state-');
  dirs.push(stateDir);
  const leaf = await pki.issueLeaf({ ocspUrls: [OCSP_URL] });
  const { certFile } = await pki.writeLeaf(fx.dir, leaf, 'fullchain');
  // As `once` and `run` do: load (nothing yet), pass, save.
  await loadValidationCache(stateDir, memos, () => undefined);
  expect((await fx.passOne()).kind).toBe('written');
  await restart(fx, stateDir);
  return { fx, certFile, stapleFile: `${certFile}.ocsp`, stateDir };
}

/** What a new process does: nothing in memory, the memo read back from the state directory. */
async function restart(fx: PassFixture, stateDir: string): Promise<ValidationCacheCounts> {
  await saveValidationCache(stateDir, memos);
  clearMemos();
  fx.history.clear();
  const problems: StaplerdError[] = [];
  const loaded = await loadValidationCache(stateDir, memos, (error) => problems.push(error));
  expect(problems).toEqual([]);
  return loaded;
}

/** nextUpdate is the last GeneralizedTime before the signature: its year goes from 2031 to 2039. */
function pushNextUpdateOut(staple: Buffer): Buffer {
  const at = staple.toString('latin1').lastIndexOf('2031');
  expect(at).toBeGreaterThan(0);
  const forged = Buffer.from(staple);
  forged[at + 3] = '9'.charCodeAt(0);
  return forged;
}

function misses(): number {
  return signatureMemo.statistics.misses;
}

/** What the saved file holds, as plain data an edit may break in ways encodeDecodedFacts itself never would. */
interface SavedFacts {
  producer: string;
  certificates: [string, { ranges: number[] }][];
  responses: [string, { basic: { tbs: [number, number]; signature: [number, number] } }][];
}

function readSavedFacts(file: Buffer): SavedFacts {
  const read = decodeDecodedFacts(file, describeDecodedFactsProducer());
  if (read.kind !== 'entries') throw new Error(`expected entries, got ${read.kind}`);
  return { producer: describeDecodedFactsProducer(), ...JSON.parse(JSON.stringify(read.entries)) as Omit<SavedFacts, 'producer'> };
}

/** Rewrites the decoded-facts file as damage or another producer would, then restarts the "process" on it. */
async function editSavedFactsAndRestart(stateDir: string, edit: (saved: SavedFacts) => void): Promise<{ problems: StaplerdError[]; loaded: ValidationCacheCounts }> {
  const file = decodedFactsFilePath(stateDir);
  const saved = readSavedFacts(await readBytes(file));
  edit(saved);
  await writeFile(file, encodeDecodedFacts(saved as unknown as DecodedFactsEntries, saved.producer), { mode: 0o600 });
  clearMemos();
  const problems: StaplerdError[] = [];
  const loaded = await loadValidationCache(stateDir, memos, (error) => problems.push(error));
  return { problems, loaded };
}

function decodeMisses(): { certificates: number; responses: number } {
  return { certificates: certificateFactsMemo.statistics.misses, responses: ocspResponseFactsMemo.statistics.misses };
}

describe('after a restart', () => {
  it('verifies no signature and decodes no certificate or staple again while they are unchanged', async () => {
    const { fx } = await stapledThenRestarted();
    fx.clock.advance(HOUR_MS);
    const missesBefore = misses();
    const hitsBefore = signatureMemo.statistics.hits;
    const decodeMissesBefore = decodeMisses();
    const certificateHits = certificateFactsMemo.statistics.hits;
    expect((await fx.passOne()).kind).toBe('fresh');
    expect(misses()).toBe(missesBefore);
    // The leaf's signature by its issuer and the staple's signature.
    expect(signatureMemo.statistics.hits - hitsBefore).toBe(2);
    expect(decodeMisses()).toEqual(decodeMissesBefore);
    // The leaf and its intermediate.
    expect(certificateFactsMemo.statistics.hits - certificateHits).toBe(2);
    expect(fx.http.ocspRequestCount).toBe(1);
  });

  it('decodes a changed staple for real', async () => {
    const { fx, stapleFile } = await stapledThenRestarted();
    await writeFile(stapleFile, pushNextUpdateOut(await readBytes(stapleFile)));
    const before = decodeMisses();
    await fx.passOne();
    expect(decodeMisses().responses).toBeGreaterThan(before.responses);
  });

  it('judges a changed certificate file afresh: the staple of the old certificate is replaced', async () => {
    const { fx, certFile, stapleFile } = await stapledThenRestarted();
    const renewed = await pki.issueLeaf({ ocspUrls: [OCSP_URL] });
    await writeFile(certFile, renewed.certificate.toPem() + pki.authority.intermediate.certificate.toPem());
    const missesBefore = misses();
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    expect(misses()).toBeGreaterThan(missesBefore);
    expect((await readStaple(pki, stapleFile, renewed, fx.clock.now()))?.serialHex).toBe(renewed.certificate.summary.serialHex);
  });

  it('verifies changed staple bytes for real, and refuses a staple whose nextUpdate was pushed out', async () => {
    const { fx, stapleFile } = await stapledThenRestarted();
    const forged = pushNextUpdateOut(await readBytes(stapleFile));
    await writeFile(stapleFile, forged);

    const leaf = (await fx.pass()).outcomes[0]!;
    // Refused as unverified, removed from disk, fetched again.
    expect(leaf.kind).toBe('written');
    expect(fx.logger.events.some((e) => e.event === 'staple.removed' || e.event === 'staple.written')).toBe(true);
    expect(await readBytes(stapleFile)).not.toEqual(forged);
    expect(fx.http.ocspRequestCount).toBe(2);
  });

  it('refuses the forged staple directly with RESPONSE_UNVERIFIED although the original signature is remembered', async () => {
    const { fx, stapleFile } = await stapledThenRestarted();
    const leaf = Certificate.fromDer(readCertificateFile(await readBytes(path.join(fx.dir, 'example.pem'))).certificates[0]!);
    const original = await readBytes(stapleFile);
    const input = { issuer: pki.authority.intermediate.certificate, cert: leaf, at: fx.clock.now() };
    await expect(validateOcspResponse(original, input)).resolves.toMatchObject({ certStatus: 'good' });
    const forged = pushNextUpdateOut(original);
    await expect(validateOcspResponse(forged, input)).rejects.toMatchObject({ code: 'RESPONSE_UNVERIFIED' });
  });

  it('gives a look-alike issuer (same name, other key) no credit: the file is not stapled and its staple is left alone', async () => {
    const { fx, certFile, stapleFile } = await stapledThenRestarted();
    const before = await readBytes(stapleFile);
    const leafPem = (await readFile(certFile, 'latin1')).split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n';
    await writeFile(certFile, leafPem + lookAlike.authority.intermediate.certificate.toPem());
    const outcome = await fx.passOne();
    expect(outcome).toMatchObject({ kind: 'failed', code: 'ISSUER_NOT_FOUND' });
    expect(await readBytes(stapleFile)).toEqual(before);
    expect(fx.http.ocspRequestCount).toBe(1);
  });

  it('still checks the clock: an expired staple with a remembered signature is refused and replaced', async () => {
    const { fx, stapleFile } = await stapledThenRestarted();
    const before = await readBytes(stapleFile);
    fx.clock.advance(25 * HOUR_MS);
    const hitsBefore = signatureMemo.statistics.hits;
    const outcome = await fx.passOne();
    expect(signatureMemo.statistics.hits).toBeGreaterThan(hitsBefore);
    expect(outcome.kind).toBe('written');
    expect(fx.http.ocspRequestCount).toBe(2);
    expect(await readBytes(stapleFile)).not.toEqual(before);
  });
});

describe('the cache files', () => {
  it('are written 0600, holding only what the last pass used', async () => {
    const { fx, stateDir } = await stapledThenRestarted();
    fx.clock.advance(HOUR_MS);
    await fx.passOne();
    // Two signatures (leaf by intermediate, staple), two certificates (leaf, intermediate), one staple.
    expect(await saveValidationCache(stateDir, memos)).toEqual({ signatures: 2, certificates: 2, responses: 1 });
    const file = validationCacheFilePath(stateDir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(decodedFactsFilePath(stateDir))).mode & 0o777).toBe(0o600);
    expect((await readBytes(file)).length).toBe(16 + 2 * 32);
    // A pass that used nothing leaves empty caches.
    expect(await saveValidationCache(stateDir, memos)).toEqual({ signatures: 0, certificates: 0, responses: 0 });
  });

  it('replace the JSON facts file an earlier build left with the binary one', async () => {
    const { fx, stateDir } = await stapledThenRestarted();
    const legacy = path.join(stateDir, 'decoded-facts.json');
    await writeFile(legacy, '{"format":2}', { mode: 0o600 });
    await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain', 'second');
    await fx.pass();
    await saveValidationCache(stateDir, memos);
    await expect(stat(legacy)).rejects.toMatchObject({ code: 'ENOENT' });
    // Both leaves and their intermediate.
    expect(readSavedFacts(await readBytes(decodedFactsFilePath(stateDir))).certificates).toHaveLength(3);
  });

  it('are absent on a first start without complaint', async () => {
    const stateDir = await makeTempDir('staplerd-state-');
    dirs.push(stateDir);
    const problems: StaplerdError[] = [];
    expect(await loadValidationCache(stateDir, memos, (error) => problems.push(error))).toEqual({ signatures: 0, certificates: 0, responses: 0 });
    expect(problems).toEqual([]);
  });

  it('drop decoded facts another decoder produced (here another asn1js), quietly', async () => {
    const { stateDir } = await stapledThenRestarted();
    const { problems, loaded } = await editSavedFactsAndRestart(stateDir, (saved) => {
      // staplerd's version and the decoder's: its revision and the asn1js installed.
      expect(saved.producer).toMatch(new RegExp(`^staplerd-${VERSION.replace(/\./g, '\\.')} staplerd-decoder-\\d+ asn1js-4\\.`));
      saved.producer = saved.producer.replace(/asn1js-[^ ]+/, 'asn1js-4.99.0');
    });
    expect(loaded).toMatchObject({ certificates: 0, responses: 0 });
    expect(problems).toEqual([]);
  });

  it('replace a well-formed entry that does not fit the bytes by a real decode, and still staple nothing wrong', async () => {
    const { fx, stateDir, stapleFile } = await stapledThenRestarted();
    await editSavedFactsAndRestart(stateDir, (saved) => {
      saved.responses[0]![1].basic.tbs[1] = 1_000_000;
    });
    const staple = await readBytes(stapleFile);
    fx.clock.advance(HOUR_MS);
    expect((await fx.passOne()).kind).toBe('fresh');
    expect(await readBytes(stapleFile)).toEqual(staple);
    await saveValidationCache(stateDir, memos);
    const resaved = readSavedFacts(await readBytes(decodedFactsFilePath(stateDir)));
    expect(resaved.responses).toHaveLength(1);
    expect(resaved.responses[0]![1].basic.tbs[1]).toBeLessThan(staple.length);
  });

  describe.each([
    ['signature cache', validationCacheFilePath, () => signatureMemo.size],
    ['decoded-facts cache', decodedFactsFilePath, () => certificateFactsMemo.size + ocspResponseFactsMemo.size],
  ])('the %s', (what, filePath, memoSize) => {
    async function rejected(prepare: (file: string, stateDir: string) => Promise<void>): Promise<StaplerdError[]> {
      const { stateDir } = await stapledThenRestarted();
      const file = filePath(stateDir);
      await prepare(file, stateDir);
      clearMemos();
      const problems: StaplerdError[] = [];
      await loadValidationCache(stateDir, memos, (error) => problems.push(error));
      expect(memoSize()).toBe(0);
      expect(problems.every((problem) => problem.file === file && problem.message.startsWith(`${what} ignored`))).toBe(true);
      return problems;
    }

    it('is ignored and reported (STATE_CORRUPT) when corrupt', async () => {
      const problems = await rejected(async (file) => {
        await writeFile(file, Buffer.concat([await readBytes(file), Buffer.from([1, 2, 3])]), { mode: 0o600 });
      });
      expect(problems).toEqual([expect.objectContaining({ code: 'STATE_CORRUPT' })]);
      expect(problems[0]!.message).toMatch(/unknown format|not JSON/);
    });

    it('is ignored when others may write it', async () => {
      const problems = await rejected(async (file) => {
        await chmod(file, 0o666);
      });
      expect(problems[0]!.message).toMatch(/writable by group or others/);
    });

    it('is ignored when it belongs to another user', async () => {
      if (process.geteuid?.() !== 0) return; // only root can hand a file to someone else
      const problems = await rejected(async (file) => {
        await chown(file, 65534, 65534);
      });
      expect(problems[0]!.message).toMatch(/owned by uid 65534/);
    });

    it('is ignored when it is a symlink', async () => {
      const problems = await rejected(async (file, stateDir) => {
        const elsewhere = path.join(stateDir, 'elsewhere');
        await writeFile(elsewhere, await readBytes(file), { mode: 0o600 });
        await rm(file);
        await symlink(elsewhere, file);
      });
      expect(problems).toEqual([expect.objectContaining({ code: 'STATE_CORRUPT' })]);
    });
  });

  it('are not rewritten after a pass that used exactly what was restored, and are after one that learnt more', async () => {
    const { fx, stateDir } = await stapledThenRestarted();
    const files = [validationCacheFilePath(stateDir), decodedFactsFilePath(stateDir)];
    const before = await Promise.all(files.map((file) => stat(file)));
    fx.clock.advance(HOUR_MS);
    expect((await fx.passOne()).kind).toBe('fresh');
    await saveValidationCache(stateDir, memos);
    const after = await Promise.all(files.map((file) => stat(file)));
    expect(after.map((s) => s.ino)).toEqual(before.map((s) => s.ino));
    // A second certificate: new facts and signatures, new files.
    await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain', 'second');
    await fx.pass();
    await saveValidationCache(stateDir, memos);
    const rewritten = await Promise.all(files.map((file) => stat(file)));
    expect(rewritten.map((s) => s.ino)).not.toContain(after[0]!.ino);
    expect(rewritten.map((s) => s.ino)).not.toContain(after[1]!.ino);
  });

  it('keep a good staple when a remembered entry fits the bytes but points at the wrong fields', async () => {
    const { fx, stateDir, stapleFile } = await stapledThenRestarted();
    await editSavedFactsAndRestart(stateDir, (saved) => {
      // The signature range moved onto the first 16 bytes of tbsResponseData: inside the staple, wrong.
      const { basic } = saved.responses[0]![1];
      basic.signature = [basic.tbs[0], basic.tbs[0] + 16];
    });
    const staple = await readBytes(stapleFile);
    fx.clock.advance(HOUR_MS);
    expect((await fx.passOne()).kind).toBe('fresh');
    expect(await readBytes(stapleFile)).toEqual(staple);
    expect(fx.http.ocspRequestCount).toBe(1);
  });

  it('decodes for real a remembered entry of the wrong shape, and saves the real facts in its place', async () => {
    const { fx, stateDir } = await stapledThenRestarted();
    const { problems, loaded } = await editSavedFactsAndRestart(stateDir, (saved) => {
      saved.certificates.forEach(([, facts]) => {
        facts.ranges = [1, 2, 3]; // 16 range offsets expected
      });
    });
    // The checksum holds (a writer wrote this file), so it opens; its rows are checked when looked up.
    expect(problems).toEqual([]);
    expect(loaded).toMatchObject({ certificates: 2, responses: 1 });
    const before = decodeMisses();
    fx.clock.advance(HOUR_MS);
    expect((await fx.passOne()).kind).toBe('fresh');
    // The leaf and its intermediate, decoded again.
    expect(decodeMisses().certificates - before.certificates).toBe(2);
    await saveValidationCache(stateDir, memos);
    const resaved = readSavedFacts(await readBytes(decodedFactsFilePath(stateDir)));
    expect(resaved.certificates.map(([, facts]) => facts.ranges.length)).toEqual([16, 16]);
  });
});
