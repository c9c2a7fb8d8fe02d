// CRL decoding and validation (src/pki/crl-*.ts) on CRLs made by `openssl ca -gencrl`, at fixed instants.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { StaplerdError } from '../../src/errors/index.js';
import { Certificate } from '../../src/pki/certificate.js';
import { readCrlDistributionPoints } from '../../src/pki/crl-distribution-points.js';
import { checkCrlScope, checkCrlWindow, compareCrlNumbers, findRevocation, validateCrl } from '../../src/pki/crl-validation.js';
import { RevokedSerialsBuilder } from '../../src/pki/revoked-serials.js';
import { describeIfAvailable } from '../helpers/describe-if-available.js';
import { createOpensslCa, missingOpensslReason, NEEDS_OPENSSL, type OpensslCa, type OpensslLeaf } from '../helpers/openssl-crl-ca.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';

const URL_A = 'http://crl.example.test/a.crl';

async function loadCertificate(file: string): Promise<Certificate> {
  const pem = await readFile(file, 'utf8');
  const body = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem)![1]!;
  return Certificate.fromDer(Buffer.from(body.replace(/\s/g, ''), 'base64'));
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  await expect(promise).rejects.toBeInstanceOf(StaplerdError);
  return promise.then(() => 'resolved', (error: StaplerdError) => error.code);
}

describeIfAvailable('validateCrl and the checks after it', missingOpensslReason(), NEEDS_OPENSSL, () => {
  let dir: string;
  let ca: OpensslCa;
  let issuer: Certificate;
  let good: OpensslLeaf;
  let revoked: OpensslLeaf;
  let removed: OpensslLeaf;
  let crl: Buffer;

  beforeAll(async () => {
    dir = await makeTempDir('staplerd-crl-unit-');
    ca = await createOpensslCa(path.join(dir, 'ca'));
    issuer = await loadCertificate(ca.caFile);
    good = await ca.issueLeaf('good', [URL_A]);
    revoked = await ca.issueLeaf('revoked', [URL_A]);
    removed = await ca.issueLeaf('removed', [URL_A]);
    await ca.revoke(revoked, 'keyCompromise');
    await ca.revoke(removed, 'removeFromCRL');
    crl = await ca.generateCrl();
  });

  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  it('keeps the times, the CRL number and the listed serials with their reason and date', async () => {
    const validated = await validateCrl(crl, { issuer, source: URL_A });
    expect({ number: validated.crlNumberHex, issuer: validated.issuer, size: validated.revoked.size }).toEqual({ number: '01', issuer: 'CN=staplerd CRL test CA', size: 1 });
    expect(validated.nextUpdate.getTime() - validated.thisUpdate.getTime()).toBe(7 * 86_400_000);
    const entry = findRevocation(validated, revoked.serialHex);
    expect(entry?.reason).toBe('keyCompromise');
    expect(Math.abs(entry!.revocationTime.getTime() - Date.now())).toBeLessThan(10 * 60_000);
    expect(findRevocation(validated, good.serialHex)).toBeUndefined();
    // removeFromCRL belongs to delta CRLs: in a complete CRL the entry lists nothing (RFC 5280 5.3.1).
    expect(findRevocation(validated, removed.serialHex)).toBeUndefined();
  });

  it('reads the leaf\'s http:// distribution point and matches it against an issuing distribution point', async () => {
    const leaf = await loadCertificate(good.certFile);
    expect(readCrlDistributionPoints(leaf).urls).toEqual([URL_A]);
    const same = await validateCrl(await ca.generateCrl({ extensions: ['issuingDistributionPoint = critical, @idp', '[idp]', `fullname = URI:${URL_A}`] }), { issuer, source: URL_A });
    expect(() => checkCrlScope(same, leaf, URL_A)).not.toThrow();
    const userOnly = await validateCrl(await ca.generateCrl({ extensions: ['issuingDistributionPoint = critical, @idp', '[idp]', 'onlyuser = TRUE'] }), { issuer, source: URL_A });
    expect(() => checkCrlScope(userOnly, leaf, URL_A)).not.toThrow();
    expect(() => checkCrlScope(userOnly, issuer, URL_A)).toThrow(expect.objectContaining({ code: 'CRL_SCOPE_MISMATCH' }));
    const someReasons = await validateCrl(await ca.generateCrl({ extensions: ['issuingDistributionPoint = critical, @idp', '[idp]', 'onlysomereasons = keyCompromise'] }), { issuer, source: URL_A });
    expect(() => checkCrlScope(someReasons, leaf, URL_A)).toThrow(expect.objectContaining({ code: 'CRL_SCOPE_MISMATCH' }));
  });

  it('refuses every truncation of the CRL as CRL_MALFORMED, never another error', async () => {
    const codes = new Set<string>();
    for (let length = 0; length < crl.length; length += 7) codes.add(await rejection(validateCrl(crl.subarray(0, length), { issuer, source: URL_A })));
    codes.add(await rejection(validateCrl(Buffer.concat([crl, Buffer.from([0])]), { issuer, source: URL_A })));
    expect([...codes]).toEqual(['CRL_MALFORMED']);
  });

  it('refuses a CRL whose signature does not verify or whose outer algorithm differs from the inner one', async () => {
    const tampered = Buffer.from(crl);
    tampered[tampered.length - 3]! ^= 0x01;
    expect(await rejection(validateCrl(tampered, { issuer, source: URL_A }))).toBe('CRL_UNVERIFIED');
    // As pyca/cryptography's crl_inner_outer_mismatch vector: ecdsa-with-SHA256 outside, the TBS says otherwise.
    const outer = Buffer.from(crl);
    const oid = Buffer.from('2a8648ce3d040302', 'hex');
    const at = outer.lastIndexOf(oid);
    outer[at + oid.length - 1] = 0x03;
    expect(await rejection(validateCrl(outer, { issuer, source: URL_A }))).toBe('CRL_MALFORMED');
  });

  it('refuses a CRL from an issuer whose keyUsage lacks cRLSign (RFC 5280 6.3.3 (f))', async () => {
    const signOnly = await createOpensslCa(path.join(dir, 'no-crl-sign'), { caKeyUsage: 'critical,keyCertSign' });
    const issuerWithoutCrlSign = await loadCertificate(signOnly.caFile);
    expect(await rejection(validateCrl(await signOnly.generateCrl(), { issuer: issuerWithoutCrlSign, source: URL_A }))).toBe('CRL_UNVERIFIED');
  });

  it('refuses a CRL issued under another name', async () => {
    const leaf = await loadCertificate(good.certFile);
    expect(await rejection(validateCrl(crl, { issuer: leaf, source: URL_A }))).toBe('CRL_UNVERIFIED');
  });

  const windows: [string, string, string | undefined][] = [
    ['within the window', '2026-03-03T00:00:00Z', undefined],
    ['thisUpdate 4 minutes ahead, within the 5-minute skew', '2026-02-28T23:56:00Z', undefined],
    ['thisUpdate 6 minutes ahead', '2026-02-28T23:54:00Z', 'CRL_NOT_YET_VALID'],
    ['at nextUpdate', '2026-03-08T00:00:00Z', 'CRL_EXPIRED'],
    ['after nextUpdate', '2026-03-09T00:00:00Z', 'CRL_EXPIRED'],
  ];
  it.each(windows)('checkCrlWindow: %s', (_name, now, code) => {
    const window = { thisUpdate: new Date('2026-03-01T00:00:00Z'), nextUpdate: new Date('2026-03-08T00:00:00Z') };
    let thrown: string | undefined;
    try {
      checkCrlWindow(window, new Date(now), 5 * 60_000, URL_A);
    } catch (error) {
      thrown = (error as StaplerdError).code;
    }
    expect(thrown).toBe(code);
  });
});

describe('compareCrlNumbers', () => {
  it.each([['01', '02', -1], ['ff', '100', -1], ['1234', '1234', 0], ['a0', '9f', 1]] as const)('%s vs %s is %d', (a, b, expected) => {
    expect(compareCrlNumbers(a, b)).toBe(expected);
  });
});

describe('RevokedSerials', () => {
  it('finds serials whatever their length or leading zeros, and only those', () => {
    const builder = new RevokedSerialsBuilder();
    const serials = ['01', '00ff', '7f', '0102030405060708090a0b0c0d0e0f1011121314', '01'.repeat(25)];
    serials.forEach((hex, index) => builder.add(Buffer.from(hex, 'hex'), Date.UTC(2026, 0, index + 1), index === 0 ? 1 : undefined));
    const revoked = builder.build();
    expect(revoked.size).toBe(5);
    expect(revoked.find('1')?.reason).toBe('keyCompromise');
    expect(revoked.find('ff')?.revocationTime.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(revoked.find('0102030405060708090a0b0c0d0e0f1011121314')?.revocationTime.getUTCDate()).toBe(4);
    expect(revoked.find('01'.repeat(25))?.revocationTime.getUTCDate()).toBe(5);
    expect([revoked.find('02'), revoked.find('0100'), revoked.find('7e'), revoked.find('1ff')]).toEqual([undefined, undefined, undefined, undefined]);
  });
});
