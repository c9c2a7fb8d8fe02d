// The signature cache in the state directory: a restart with fresh staples verifies no signature again, and nothing
// it remembers ever makes a changed certificate, a changed staple, another issuer or an expired staple acceptable.
import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { chmod, chown, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StaplerdError } from '../../src/errors/index.js';
import { Certificate } from '../../src/pki/certificate.js';
import { validateOcspResponse } from '../../src/pki/ocsp-response.js';
import { readCertificateFile } from '../../src/pki/pem.js';
import { signatureMemo } from '../../src/pki/verified-signatures.js';
import { loadValidationCache, saveValidationCache, validationCacheFilePath } from '../../src/state/validation-cache.js';
import { createTestPki, makeTempDir, removeTempDir, type TestPki } from '../helpers/test-pki.js';
import { createPassFixture, HOUR_MS, OCSP_URL, readBytes, readStaple, T0, type PassFixture } from './pass-fixture.js';

let pki: TestPki;
let lookAlike: TestPki;
const dirs: string[] = [];

beforeAll(async () => {
  pki = await createTestPki({ now: T0 });
  // Same names as pki's CAs, other keys.
  lookAlike = await createTestPki({ now: T0 });
});

afterAll(async () => {
  await Promise.all(dirs.map((dir) => removeTempDir(dir)));
});

beforeEach(() => {
  signatureMemo.clear();
});

interface Scenario {
  fx: PassFixture;
  certFile: string;
  stapleFile: string;
  stateDir: string;
}

/** One fullchain file, stapled by a first pass; the memo is then saved and the "process" restarted. */
async function stapledThenRestarted(): Promise<Scenario> {
  const fx = await createPassFixture(pki, dirs);
  const stateDir = await makeTempDir('staplerd-state-');
  dirs.push(stateDir);
  const leaf = await pki.issueLeaf({ ocspUrls: [OCSP_URL] });
  const { certFile } = await pki.writeLeaf(fx.dir, leaf, 'fullchain');
  expect((await fx.passOne()).kind).toBe('written');
  await restart(fx, stateDir);
  return { fx, certFile, stapleFile: `${certFile}.ocsp`, stateDir };
}

/** What a new process does: nothing in memory, the memo read back from the state directory. */
async function restart(fx: PassFixture, stateDir: string): Promise<number> {
  await saveValidationCache(stateDir);
  signatureMemo.clear();
  fx.history.clear();
  const problems: StaplerdError[] = [];
  const loaded = await loadValidationCache(stateDir, (error) => problems.push(error));
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

describe('after a restart', () => {
  it('verifies no signature again while certificate and staple are unchanged', async () => {
    const { fx } = await stapledThenRestarted();
    fx.clock.advance(HOUR_MS);
    const missesBefore = misses();
    const hitsBefore = signatureMemo.statistics.hits;
    expect((await fx.passOne()).kind).toBe('fresh');
    expect(misses()).toBe(missesBefore);
    // The leaf's signature by its issuer and the staple's signature.
    expect(signatureMemo.statistics.hits - hitsBefore).toBe(2);
    expect(fx.http.ocspRequestCount).toBe(1);
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

describe('the cache file', () => {
  it('is written 0600 as a header and 32-byte keys, holding only what the last pass used', async () => {
    const { fx, stateDir } = await stapledThenRestarted();
    fx.clock.advance(HOUR_MS);
    await fx.passOne();
    expect(await saveValidationCache(stateDir)).toBe(2);
    const file = validationCacheFilePath(stateDir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readBytes(file)).length).toBe(16 + 2 * 32);
    // A pass that used nothing leaves an empty cache.
    expect(await saveValidationCache(stateDir)).toBe(0);
  });

  it('is absent on a first start without complaint', async () => {
    const stateDir = await makeTempDir('staplerd-state-');
    dirs.push(stateDir);
    const problems: StaplerdError[] = [];
    expect(await loadValidationCache(stateDir, (error) => problems.push(error))).toBe(0);
    expect(problems).toEqual([]);
  });

  async function rejected(prepare: (file: string, stateDir: string) => Promise<void>): Promise<StaplerdError[]> {
    const { stateDir } = await stapledThenRestarted();
    const file = validationCacheFilePath(stateDir);
    await prepare(file, stateDir);
    signatureMemo.clear();
    const problems: StaplerdError[] = [];
    expect(await loadValidationCache(stateDir, (error) => problems.push(error))).toBe(0);
    expect(signatureMemo.size).toBe(0);
    return problems;
  }

  it('is ignored and reported (STATE_CORRUPT) when corrupt', async () => {
    const problems = await rejected(async (file) => {
      await writeFile(file, Buffer.concat([await readBytes(file), Buffer.from([1, 2, 3])]), { mode: 0o600 });
    });
    expect(problems).toEqual([expect.objectContaining({ code: 'STATE_CORRUPT' })]);
    expect(problems[0]!.message).toMatch(/unknown format/);
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
      const elsewhere = path.join(stateDir, 'elsewhere.bin');
      await writeFile(elsewhere, await readBytes(file), { mode: 0o600 });
      await rm(file);
      await symlink(elsewhere, file);
    });
    expect(problems).toEqual([expect.objectContaining({ code: 'STATE_CORRUPT' })]);
  });
});
