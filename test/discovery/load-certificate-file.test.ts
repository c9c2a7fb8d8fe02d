// Reading one certificate file: which certificate is the leaf, what is its chain, and which files have no leaf at all.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IssuedIdentity } from '../../src/demo/demo-pki.js';
import { fingerprintCertificateFile, loadCertificateFile } from '../../src/discovery/index.js';
import { CertificateCache } from '../../src/pki/certificate-cache.js';
import { exportPrivateKeyPem } from '../../src/demo/key-pair.js';
import { createTestPki, makeTempDir, removeTempDir, type TestPki } from '../helpers/test-pki.js';

const DH_PARAMS = '-----BEGIN DH PARAMETERS-----\nMIGHAoGBAP//////////yQ/aoiFowjTExmKLgNwc0SkCTgiKZ8x0Agu+pjsTmyJR\n-----END DH PARAMETERS-----\n';

let pki: TestPki;
let leaf: IssuedIdentity;
let dir: string;
let counter = 0;

beforeAll(async () => {
  pki = await createTestPki();
  leaf = await pki.issueLeaf();
  dir = await makeTempDir();
});

afterAll(async () => {
  await removeTempDir(dir);
});

async function fileWith(contents: string | Uint8Array): Promise<string> {
  counter += 1;
  const file = path.join(dir, `file-${counter}.pem`);
  await writeFile(file, contents);
  return file;
}

const fingerprints = (certs: readonly { summary: { fingerprintSha256: string } }[]) => certs.map((c) => c.summary.fingerprintSha256);

describe('loadCertificateFile', () => {
  it('reads a lone leaf with an empty chain', async () => {
    const loaded = await loadCertificateFile(await fileWith(leaf.certificate.toPem()));
    expect(loaded.kind).toBe('leaf');
    if (loaded.kind !== 'leaf') return;
    expect(loaded.leaf.summary.fingerprintSha256).toBe(leaf.certificate.summary.fingerprintSha256);
    expect(loaded.chain).toEqual([]);
  });

  it('reads an HAProxy combined file (key, leaf, intermediate) as leaf plus chain', async () => {
    const key = await exportPrivateKeyPem(leaf.keys);
    const file = await fileWith(key + leaf.certificate.toPem() + pki.authority.intermediate.certificate.toPem() + DH_PARAMS);
    const loaded = await loadCertificateFile(file);
    expect(loaded).toMatchObject({ kind: 'leaf', file });
    if (loaded.kind !== 'leaf') return;
    expect(loaded.leaf.summary.fingerprintSha256).toBe(leaf.certificate.summary.fingerprintSha256);
    expect(fingerprints(loaded.chain)).toEqual([pki.authority.intermediate.certificate.summary.fingerprintSha256]);
  });

  it('finds the leaf even when a CA certificate comes first', async () => {
    const file = await fileWith(pki.authority.intermediate.certificate.toPem() + leaf.certificate.toPem());
    const loaded = await loadCertificateFile(file);
    expect(loaded.kind).toBe('leaf');
    if (loaded.kind !== 'leaf') return;
    expect(loaded.leaf.summary.fingerprintSha256).toBe(leaf.certificate.summary.fingerprintSha256);
    expect(loaded.chain).toHaveLength(1);
  });

  it('reads a DER certificate', async () => {
    const loaded = await loadCertificateFile(await fileWith(leaf.certificate.der));
    expect(loaded.kind).toBe('leaf');
  });

  it('returns no-leaf for a file with only a private key', async () => {
    const file = await fileWith(await exportPrivateKeyPem(leaf.keys));
    expect(await loadCertificateFile(file)).toEqual({ kind: 'no-leaf', file, chain: [] });
  });

  it('returns no-leaf for a file with only DH parameters', async () => {
    const file = await fileWith(DH_PARAMS);
    expect(await loadCertificateFile(file)).toEqual({ kind: 'no-leaf', file, chain: [] });
  });

  it('returns no-leaf with the certificates for a CA-only bundle (certbot chain.pem)', async () => {
    const file = await fileWith(pki.authority.intermediate.certificate.toPem() + pki.authority.root.certificate.toPem());
    const loaded = await loadCertificateFile(file);
    expect(loaded.kind).toBe('no-leaf');
    expect(fingerprints(loaded.chain)).toEqual([
      pki.authority.intermediate.certificate.summary.fingerprintSha256,
      pki.authority.root.certificate.summary.fingerprintSha256,
    ]);
  });

  it('rejects a file that is neither PEM nor DER with CERT_PARSE_FAILED naming it', async () => {
    const file = await fileWith('hello, world\n');
    await expect(loadCertificateFile(file)).rejects.toMatchObject({ code: 'CERT_PARSE_FAILED', file });
  });

  it('rejects a missing file with CERT_UNREADABLE naming it', async () => {
    const file = path.join(dir, 'absent.pem');
    await expect(loadCertificateFile(file)).rejects.toMatchObject({ code: 'CERT_UNREADABLE', file });
  });
});

describe('CertificateCache', () => {
  it('parses a CA shared by many files once, whatever the line breaks around it', async () => {
    const cache = new CertificateCache();
    const other = await pki.issueLeaf({ commonName: 'other.test' });
    const intermediate = pki.authority.intermediate.certificate.toPem();
    const first = await loadCertificateFile(await fileWith(leaf.certificate.toPem() + intermediate), cache);
    const second = await loadCertificateFile(await fileWith(other.certificate.toPem() + intermediate), cache);
    const crlf = await loadCertificateFile(await fileWith((other.certificate.toPem() + intermediate).replace(/\n/g, '\r\n')), cache);
    if (first.kind !== 'leaf' || second.kind !== 'leaf' || crlf.kind !== 'leaf') throw new Error('expected leaves');
    expect(second.chain[0]).toBe(first.chain[0]);
    expect(crlf.chain[0]).toBe(first.chain[0]);
    expect(second.leaf).not.toBe(first.leaf);
  });

  it('still refuses a damaged copy of a known CA', async () => {
    const cache = new CertificateCache();
    const intermediate = pki.authority.intermediate.certificate.toPem();
    await loadCertificateFile(await fileWith(leaf.certificate.toPem() + intermediate), cache);
    const lines = intermediate.split('\n');
    lines[3] = lines[3]!.slice(0, 10) + (lines[3]![10] === 'A' ? 'B' : 'A') + lines[3]!.slice(11);
    const file = await fileWith(leaf.certificate.toPem() + lines.join('\n'));
    // Another DER: parsed for itself, and (its signature no longer matching) still a CA certificate or a parse error.
    const loaded = await loadCertificateFile(file, cache).catch((error: Error) => error);
    if (loaded instanceof Error) expect(loaded).toMatchObject({ code: 'CERT_PARSE_FAILED', file });
    else if (loaded.kind === 'leaf') expect(loaded.chain[0]?.summary.fingerprintSha256).not.toBe(pki.authority.intermediate.certificate.summary.fingerprintSha256);
  });
});

describe('loadCertificateFile limits', () => {
  const garbageBlock = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

  it('refuses more certificates than the limit before parsing any, naming the file and the count', async () => {
    const file = await fileWith(garbageBlock.repeat(3));
    await expect(loadCertificateFile(file, undefined, { maxFileBytes: 1024 * 1024, maxCertificates: 2 })).rejects.toMatchObject({
      code: 'CERT_LIMIT_EXCEEDED',
      file,
      message: expect.stringContaining('3 certificates'),
    });
  });

  it('refuses a file over the size cap', async () => {
    const file = await fileWith(leaf.certificate.toPem() + ' '.repeat(4096));
    await expect(loadCertificateFile(file, undefined, { maxFileBytes: 4096, maxCertificates: 10 })).rejects.toMatchObject({ code: 'FILE_TOO_LARGE', file });
  });

  it('reads a file at the limits', async () => {
    const pem = leaf.certificate.toPem() + pki.authority.intermediate.certificate.toPem();
    const loaded = await loadCertificateFile(await fileWith(pem), undefined, { maxFileBytes: Buffer.byteLength(pem), maxCertificates: 2 });
    expect(loaded.kind).toBe('leaf');
  });
});

describe('fingerprintCertificateFile', () => {
  it("gives every certificate's SHA-256 in file order, the same fingerprints parsing gives, and the bytes it read", async () => {
    const intermediate = pki.authority.intermediate.certificate;
    const file = await fileWith(intermediate.toPem() + leaf.certificate.toPem() + (await exportPrivateKeyPem(leaf.keys)));
    const read = fingerprintCertificateFile(file);
    expect(read?.fingerprints).toEqual([intermediate.summary.fingerprintSha256, leaf.certificate.summary.fingerprintSha256]);
    expect(Buffer.from(read!.bytes).toString()).toContain(leaf.certificate.toPem());
  });

  it('gives nothing for a file it cannot read or decode, or one over the certificate limit', async () => {
    const broken = await fileWith('-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n');
    expect(fingerprintCertificateFile(path.join(dir, 'missing.pem'))).toBeUndefined();
    expect(fingerprintCertificateFile(broken)).toBeUndefined();
    const two = await fileWith(leaf.certificate.toPem() + pki.authority.intermediate.certificate.toPem());
    expect(fingerprintCertificateFile(two, { maxFileBytes: 1 << 20, maxCertificates: 1 })).toBeUndefined();
  });
});
