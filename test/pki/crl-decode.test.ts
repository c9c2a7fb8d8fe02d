// decodeCrl on hand-built CertificateLists (no signature is checked here): the malformations pyca/cryptography's CRL
// vectors cover (bad version, fractional seconds, duplicate or unknown critical entry extensions, certificateIssuer,
// inner/outer algorithm mismatch, no revokedCertificates at all), rebuilt with a small DER writer of our own.
import { describe, expect, it } from '@jest/globals';
import { decodeCrl } from '../../src/pki/crl-decode.js';

function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const long = body.length < 0x100 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 0xff];
  const length = Buffer.from(body.length < 0x80 ? [body.length] : long);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
const seq = (...parts: Buffer[]): Buffer => tlv(0x30, ...parts);
const hex = (text: string): Buffer => Buffer.from(text, 'hex');
const oid = (encoded: string): Buffer => tlv(0x06, hex(encoded));
const utc = (text: string): Buffer => tlv(0x17, Buffer.from(text, 'latin1'));
const int = (encoded: string): Buffer => tlv(0x02, hex(encoded));
const octets = (...parts: Buffer[]): Buffer => tlv(0x04, ...parts);
const CRITICAL = tlv(0x01, hex('ff'));

const ECDSA_SHA256 = seq(oid('2a8648ce3d040302'));
const ECDSA_SHA384 = seq(oid('2a8648ce3d040303'));
const ISSUER = seq(tlv(0x31, seq(oid('550403'), tlv(0x0c, Buffer.from('Test CA')))));
const reason = (code: number): Buffer => seq(oid('551d15'), octets(tlv(0x0a, Buffer.from([code]))));

interface Parts {
  version?: Buffer | null;
  innerAlgorithm?: Buffer;
  entries?: Buffer[] | null;
  extensions?: Buffer[];
  revocationDate?: Buffer;
}

function crl(parts: Parts = {}): Buffer {
  const entries = parts.entries === undefined ? [seq(int('1234'), parts.revocationDate ?? utc('260101000000Z'), seq(reason(1)))] : parts.entries;
  const tbs = seq(
    ...(parts.version === null ? [] : [parts.version ?? int('01')]),
    parts.innerAlgorithm ?? ECDSA_SHA256,
    ISSUER,
    utc('260301000000Z'),
    utc('260308000000Z'),
    ...(entries === null ? [] : [seq(...entries)]),
    ...(parts.extensions ? [tlv(0xa0, seq(...parts.extensions))] : []),
  );
  return seq(tbs, ECDSA_SHA256, tlv(0x03, hex('00'), hex('3006020101020101')));
}

describe('decodeCrl', () => {
  it('reads the issuer, window, number and an entry with its reason', () => {
    const decoded = decodeCrl(crl({ extensions: [seq(oid('551d14'), octets(int('2a')))] }));
    expect({ issuer: decoded.issuer, thisUpdate: decoded.thisUpdate.toISOString(), nextUpdate: decoded.nextUpdate?.toISOString(), number: decoded.crlNumberHex }).toEqual({
      issuer: 'CN=Test CA', thisUpdate: '2026-03-01T00:00:00.000Z', nextUpdate: '2026-03-08T00:00:00.000Z', number: '2a',
    });
    expect(decoded.revoked.find('1234')).toEqual({ revocationTime: new Date('2026-01-01T00:00:00Z'), reason: 'keyCompromise' });
  });

  it('reads the reason of each entry when entries share or differ in their extension encodings (decoded once per encoding)', () => {
    const entry = (serial: string, code: number): Buffer => seq(int(serial), utc('260101000000Z'), seq(reason(code)));
    const decoded = decodeCrl(crl({ entries: [entry('0a', 1), entry('0b', 1), entry('0c', 4), entry('0d', 1), seq(int('0e'), utc('260102000000Z'))] }));
    expect(['0a', '0b', '0c', '0d', '0e'].map((serial) => decoded.revoked.find(serial)?.reason ?? 'none')).toEqual(['keyCompromise', 'keyCompromise', 'superseded', 'keyCompromise', 'none']);
    const unknown = (serial: string): Buffer => seq(int(serial), utc('260101000000Z'), seq(seq(oid('2b0601040182b75b02'), CRITICAL, octets(tlv(0x05)))));
    expect(decodeCrl(crl({ entries: [unknown('01'), unknown('02')] })).unsupportedCritical).toEqual(['entry extension 1.3.6.1.4.1.39899.2']);
  });

  it('reads a non-DER TRUE in an IssuingDistributionPoint flag as TRUE (indirectCRL cannot be hidden)', () => {
    const idp = (flag: string): Buffer => seq(oid('551d1c'), CRITICAL, octets(seq(tlv(0x84, hex(flag)))));
    expect(decodeCrl(crl({ extensions: [idp('ff')] })).idp?.indirectCrl).toBe(true);
    expect(decodeCrl(crl({ extensions: [idp('01')] })).idp?.indirectCrl).toBe(true);
    expect(decodeCrl(crl({ extensions: [idp('00')] })).idp?.indirectCrl).toBe(false);
  });

  it('accepts a CRL without revokedCertificates (no entries) and one without a version (v1)', () => {
    expect(decodeCrl(crl({ entries: null })).revoked.size).toBe(0);
    expect(decodeCrl(crl({ version: null, entries: null })).revoked.size).toBe(0);
  });

  it('flags a deltaCRLIndicator, unknown critical CRL and entry extensions, and certificateIssuer (indirect CRLs)', () => {
    expect(decodeCrl(crl({ extensions: [seq(oid('551d1b'), CRITICAL, octets(int('01')))] })).isDelta).toBe(true);
    expect(decodeCrl(crl({ extensions: [seq(oid('2b0601040182b75b01'), CRITICAL, octets(tlv(0x05)))] })).unsupportedCritical).toEqual(['CRL extension 1.3.6.1.4.1.39899.1']);
    const unknownEntry = seq(int('05'), utc('260101000000Z'), seq(seq(oid('2b0601040182b75b02'), CRITICAL, octets(tlv(0x05)))));
    expect(decodeCrl(crl({ entries: [unknownEntry] })).unsupportedCritical).toEqual(['entry extension 1.3.6.1.4.1.39899.2']);
    const indirectEntry = seq(int('06'), utc('260101000000Z'), seq(seq(oid('551d1d'), CRITICAL, octets(seq()))));
    expect(decodeCrl(crl({ entries: [indirectEntry] })).unsupportedCritical).toEqual(['entry extension 2.5.29.29']);
    // A non-critical unknown entry extension is ignored, as RFC 5280 5.3 allows.
    const harmless = seq(int('07'), utc('260101000000Z'), seq(seq(oid('2b0601040182b75b03'), octets(tlv(0x05)))));
    expect(decodeCrl(crl({ entries: [harmless] })).unsupportedCritical).toEqual([]);
  });

  const malformed: [string, Parts][] = [
    ['version 3 (only v2, 1, exists)', { version: int('02') }],
    ['a revocation date with fractional seconds (not DER)', { revocationDate: tlv(0x18, Buffer.from('20260101000000.5Z')) }],
    ['a revocation date that is not a time', { revocationDate: int('01') }],
    ['an entry repeating its reasonCode', { entries: [seq(int('08'), utc('260101000000Z'), seq(reason(1), reason(4)))] }],
    ['a reasonCode that is not a CRLReason (7 is unused)', { entries: [seq(int('09'), utc('260101000000Z'), seq(reason(7)))] }],
    ['an empty serial', { entries: [seq(tlv(0x02), utc('260101000000Z'))] }],
    ['an inner signature algorithm other than the outer one', { innerAlgorithm: ECDSA_SHA384 }],
    ['a repeated CRL extension', { extensions: [seq(oid('551d14'), octets(int('01'))), seq(oid('551d14'), octets(int('02')))] }],
  ];
  it.each(malformed)('refuses %s', (_name, parts) => {
    expect(() => decodeCrl(crl(parts))).toThrow();
  });

  it('refuses a length in more octets than needed and an entry that runs past its list', () => {
    const good = crl();
    const padded = Buffer.concat([hex('3082'), Buffer.from([0x00, good.length - 2]), good.subarray(2)]);
    expect(() => decodeCrl(padded)).toThrow(/non-minimal|trailing|length/);
    const runaway = crl({ entries: [Buffer.concat([hex('3040'), int('01')])] });
    expect(() => decodeCrl(runaway)).toThrow();
  });

  it('refuses BER inside an entry (asn1js decodes it; its lengths, tags and times are then checked for DER)', () => {
    const body = Buffer.concat([int('01'), utc('260101000000Z')]);
    const longForm = Buffer.concat([hex('3081'), Buffer.from([body.length]), body]);
    expect(() => decodeCrl(crl({ entries: [longForm] }))).toThrow(/non-minimal length/);
    const indefinite = Buffer.concat([hex('3080'), body, hex('0000')]);
    expect(() => decodeCrl(crl({ entries: [indefinite] }))).toThrow(/indefinite length/);
    const highTag = Buffer.concat([hex('3f10'), Buffer.from([body.length]), body]);
    expect(() => decodeCrl(crl({ entries: [highTag] }))).toThrow(/multi-octet tag/);
    expect(() => decodeCrl(crl({ revocationDate: utc('2601010000+0100') }))).toThrow(/revocationDate/);
    expect(() => decodeCrl(crl({ revocationDate: utc('260101000000Z0') }))).toThrow(/not a DER UTCTime/);
  });
});
