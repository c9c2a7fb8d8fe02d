// Where a leaf's issuer is found, in order: the file itself, sibling chain files, the issuer directory, AIA caIssuers.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IssuedIdentity } from '../../src/demo/demo-pki.js';
import { IssuerResolver } from '../../src/discovery/index.js';
import { CertificateCache } from '../../src/pki/certificate-cache.js';
import { createValidationMemos } from '../../src/pki/validation-memos.js';
import { createTestPki, makeTempDir, removeTempDir, type TestPki } from '../helpers/test-pki.js';

const EXTENSIONS = ['.pem', '.crt'];
const AIA_URL = 'http://127.0.0.1:9/ca.der';

let pki: TestPki;
let other: TestPki;
let leaf: IssuedIdentity;
let root: string;
let counter = 0;

beforeAll(async () => {
  [pki, other] = await Promise.all([createTestPki(), createTestPki()]);
  leaf = await pki.issueLeaf({ caIssuersUrls: [AIA_URL] });
  root = await makeTempDir();
});

afterAll(async () => {
  await removeTempDir(root);
});

/** A fresh directory holding cert.pem (the leaf alone) plus the given files. */
async function siteWith(files: Record<string, string> = {}): Promise<string> {
  counter += 1;
  const dir = path.join(root, `site-${counter}`);
  await mkdir(dir);
  await writeFile(path.join(dir, 'cert.pem'), leaf.certificate.toPem());
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return path.join(dir, 'cert.pem');
}

const intermediatePem = () => pki.authority.intermediate.certificate.toPem();
const isIntermediate = (cert: { summary: { fingerprintSha256: string } }) =>
  cert.summary.fingerprintSha256 === pki.authority.intermediate.certificate.summary.fingerprintSha256;

describe('IssuerResolver', () => {
  it('prefers the chain from the file itself', async () => {
    const resolver = new IssuerResolver({ extensions: EXTENSIONS });
    const resolved = await resolver.resolve(leaf.certificate, [pki.authority.root.certificate, pki.authority.intermediate.certificate], '/nonexistent/cert.pem');
    expect(resolved.source).toBe('file');
    expect(isIntermediate(resolved.issuer)).toBe(true);
  });

  it('finds the issuer in a sibling fullchain.pem when chain.pem is absent', async () => {
    const file = await siteWith({ 'fullchain.pem': leaf.certificate.toPem() + intermediatePem() });
    const resolved = await new IssuerResolver({ extensions: EXTENSIONS }).resolve(leaf.certificate, [], file);
    expect(resolved.source).toBe('sibling');
    expect(isIntermediate(resolved.issuer)).toBe(true);
  });

  it('passes over a sibling chain.pem from another CA and a broken one', async () => {
    const file = await siteWith({ 'chain.pem': other.authority.intermediate.certificate.toPem(), 'fullchain.pem': 'garbage' });
    const issuerDir = path.join(root, `cas-${++counter}`);
    await mkdir(issuerDir);
    await pki.writeCaFiles(issuerDir);
    const resolved = await new IssuerResolver({ extensions: EXTENSIONS, issuerDir }).resolve(leaf.certificate, [], file);
    expect(resolved.source).toBe('issuer-dir');
    expect(isIntermediate(resolved.issuer)).toBe(true);
  });

  it('only reads issuer-directory files with a certificate extension', async () => {
    const file = await siteWith();
    const issuerDir = path.join(root, `cas-${++counter}`);
    await mkdir(issuerDir);
    await writeFile(path.join(issuerDir, 'intermediate.txt'), intermediatePem());
    const resolver = new IssuerResolver({ extensions: EXTENSIONS, issuerDir });
    await expect(resolver.resolve(leaf.certificate, [], file)).rejects.toMatchObject({ code: 'ISSUER_NOT_FOUND', file });
  });

  it('downloads the issuer from AIA caIssuers last', async () => {
    const file = await siteWith();
    const fetched: string[] = [];
    const resolver = new IssuerResolver({
      extensions: EXTENSIONS,
      fetchCaIssuer: async (url) => {
        fetched.push(url);
        return pki.authority.intermediate.certificate.der;
      },
    });
    const resolved = await resolver.resolve(leaf.certificate, [], file);
    expect(resolved.source).toBe('aia');
    expect(fetched).toEqual([AIA_URL]);
  });

  it('throws ISSUER_NOT_FOUND naming the file and what the AIA URL served', async () => {
    const file = await siteWith();
    const resolver = new IssuerResolver({ extensions: EXTENSIONS, fetchCaIssuer: async () => other.authority.intermediate.certificate.der });
    const promise = resolver.resolve(leaf.certificate, [], file);
    await expect(promise).rejects.toMatchObject({ code: 'ISSUER_NOT_FOUND', file });
    await expect(promise).rejects.toThrow(AIA_URL);
  });

  it('stops with CERT_LIMIT_EXCEEDED after maxIssuerCandidates same-named look-alikes, instead of checking them all', async () => {
    const lookAlike = other.authority.intermediate.certificate;
    const chain = [lookAlike, lookAlike, lookAlike, pki.authority.intermediate.certificate];
    const resolver = new IssuerResolver({ extensions: EXTENSIONS, maxIssuerCandidates: 2 });
    await expect(resolver.resolve(leaf.certificate, chain, '/nonexistent/cert.pem')).rejects.toMatchObject({ code: 'CERT_LIMIT_EXCEEDED', file: '/nonexistent/cert.pem' });
  });

  it('finds the issuer behind look-alikes while within maxIssuerCandidates, not counting other names', async () => {
    const lookAlike = other.authority.intermediate.certificate;
    const chain = [pki.authority.root.certificate, pki.authority.root.certificate, lookAlike, pki.authority.intermediate.certificate];
    const resolver = new IssuerResolver({ extensions: EXTENSIONS, maxIssuerCandidates: 2 });
    expect(isIntermediate((await resolver.resolve(leaf.certificate, chain, '/nonexistent/cert.pem')).issuer)).toBe(true);
  });

  it('answers an issuer the memo remembers without a promise or a verification, within maxIssuerCandidates', async () => {
    const memos = createValidationMemos();
    const resolverWith = (maxIssuerCandidates?: number) => new IssuerResolver({ extensions: EXTENSIONS, certificates: new CertificateCache({ memos }), maxIssuerCandidates });
    const chain = [pki.authority.intermediate.certificate];
    expect(resolverWith().resolveRemembered(leaf.certificate, chain)).toBeUndefined();
    await resolverWith().resolve(leaf.certificate, chain, '/nonexistent/cert.pem');
    const before = memos.signatures.statistics;
    const again = resolverWith().resolveRemembered(leaf.certificate, chain);
    expect(again?.source).toBe('file');
    expect(isIntermediate(again!.issuer)).toBe(true);
    expect(memos.signatures.statistics).toEqual({ hits: before.hits + 1, misses: before.misses });
    // With no check allowed, resolve refuses, so nothing may be answered from memory either.
    expect(resolverWith(0).resolveRemembered(leaf.certificate, chain)).toBeUndefined();
    await expect(resolverWith(0).resolve(leaf.certificate, chain, '/nonexistent/cert.pem')).rejects.toMatchObject({ code: 'CERT_LIMIT_EXCEEDED' });
  });

  it('judges a remembered issuer behind a look-alike as before: found within maxIssuerCandidates, refused past it', async () => {
    const memos = createValidationMemos();
    const resolverWith = (maxIssuerCandidates: number) => new IssuerResolver({ extensions: EXTENSIONS, certificates: new CertificateCache({ memos }), maxIssuerCandidates });
    await resolverWith(2).resolve(leaf.certificate, [pki.authority.intermediate.certificate], '/nonexistent/cert.pem');
    const chain = [other.authority.intermediate.certificate, pki.authority.intermediate.certificate];
    // Not the first look-alike: left to resolve, which checks them in order.
    expect(resolverWith(2).resolveRemembered(leaf.certificate, chain)).toBeUndefined();
    expect(isIntermediate((await resolverWith(2).resolve(leaf.certificate, chain, '/nonexistent/cert.pem')).issuer)).toBe(true);
    await expect(resolverWith(1).resolve(leaf.certificate, chain, '/nonexistent/cert.pem')).rejects.toMatchObject({ code: 'CERT_LIMIT_EXCEEDED' });
  });

  it('names a sibling chain.pem that is too large among the places looked in', async () => {
    const file = await siteWith({ 'chain.pem': intermediatePem() + ' '.repeat(8192) });
    const resolver = new IssuerResolver({ extensions: EXTENSIONS, fileLimits: { maxFileBytes: 4096, maxCertificates: 10 } });
    await expect(resolver.resolve(leaf.certificate, [], file)).rejects.toMatchObject({
      code: 'ISSUER_NOT_FOUND',
      message: expect.stringContaining(`${path.join(path.dirname(file), 'chain.pem')} (refused: FILE_TOO_LARGE`),
    });
  });
});

