// Decoded facts: what asn1js read from a certificate or an OCSP response, kept as plain values and offsets, must
// give back exactly what a fresh decode gives, survive JSON (the state directory), and never be used for other bytes.
import { describe, it, expect, beforeAll, beforeEach } from '@jest/globals';
import { Certificate } from '../../src/pki/certificate.js';
import {
  fromOcspResponseFacts, isCertificateFacts, isOcspResponseFacts, toOcspResponseFacts,
  type OcspResponseFacts,
} from '../../src/pki/decoded-facts.js';
import { decodeOcspResponse } from '../../src/pki/ocsp-decode.js';
import { createValidationMemos } from '../../src/pki/validation-memos.js';
import { encodeOcspErrorResponse, signOcspResponse } from '../../src/demo/sign-ocsp-response.js';
import { computeSha256Hex } from '../../src/pki/digest.js';
import { createTestPki, type TestPki } from '../helpers/test-pki.js';

/** The memos a pass would hand down. */
const memos = createValidationMemos();
const { certificates: certificateFactsMemo, responses: ocspResponseFactsMemo } = memos;

const T0 = new Date('2026-11-27T12:00:00Z');
const HOUR_MS = 3_600_000;

let pki: TestPki;
let leafDer: Uint8Array;
/** Revoked with a reason, a nonce, signed by the delegated responder (byName) which it carries. */
let delegatedRevoked: Uint8Array;
/** Good, byKey, signed by the issuer, no nextUpdate. */
let issuerSignedGood: Uint8Array;

beforeAll(async () => {
  pki = await createTestPki({ now: T0 });
  const leaf = await pki.issueLeaf({ ocspUrls: ['http://127.0.0.1:1/'] });
  leafDer = leaf.certificate.der;
  const issuer = pki.authority.intermediate.certificate;
  delegatedRevoked = await signOcspResponse({
    signer: pki.authority.responder,
    responderIdBy: 'name',
    producedAt: T0,
    nonce: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    answers: [{
      certId: { cert: leaf.certificate, issuer },
      status: 'revoked',
      revocationTime: new Date(T0.getTime() - HOUR_MS),
      revocationReason: 1,
      thisUpdate: T0,
      nextUpdate: new Date(T0.getTime() + 24 * HOUR_MS),
    }],
  });
  issuerSignedGood = await signOcspResponse({
    signer: pki.authority.intermediate,
    producedAt: T0,
    answers: [
      { certId: { cert: leaf.certificate, issuer }, status: 'good', thisUpdate: T0, nextUpdate: null },
      { certId: { cert: leaf.certificate, issuer, hash: 'SHA-256' }, status: 'unknown', thisUpdate: T0, nextUpdate: new Date(T0.getTime() + HOUR_MS) },
    ],
  });
});

beforeEach(() => {
  certificateFactsMemo.clear();
  ocspResponseFactsMemo.clear();
});

/** A fresh decode, its facts through JSON, and the response rebuilt from them. */
function roundTrip(der: Uint8Array): { fresh: ReturnType<typeof decodeOcspResponse>; rebuilt: ReturnType<typeof decodeOcspResponse>; facts: OcspResponseFacts } {
  const fresh = decodeOcspResponse(der, ocspResponseFactsMemo);
  const facts = JSON.parse(JSON.stringify(toOcspResponseFacts(der, fresh))) as OcspResponseFacts;
  return { fresh, rebuilt: fromOcspResponseFacts(der, facts), facts };
}

describe('OCSP response facts', () => {
  it.each([
    ['revoked, nonce, delegated responder byName with its certificate', () => delegatedRevoked],
    ['two answers, byKey, no nextUpdate', () => issuerSignedGood],
    ['an error status without responseBytes', () => encodeOcspErrorResponse('tryLater')],
  ])('rebuild exactly what a fresh decode gives: %s', (_name, response) => {
    const der = response();
    const { fresh, rebuilt, facts } = roundTrip(der);
    expect(rebuilt).toEqual(fresh);
    expect(isOcspResponseFacts(facts)).toBe(true);
  });

  it('answer the second decode of the same bytes from the memo, with views of the bytes passed in', () => {
    const first = decodeOcspResponse(delegatedRevoked, ocspResponseFactsMemo);
    const copy = new Uint8Array(delegatedRevoked);
    const hits = ocspResponseFactsMemo.statistics.hits;
    const second = decodeOcspResponse(copy, ocspResponseFactsMemo);
    expect(ocspResponseFactsMemo.statistics.hits).toBe(hits + 1);
    expect(second).toEqual(first);
    expect(second.basic!.tbsDer.buffer).toBe(copy.buffer);
  });

  it('are not used for other bytes: one changed byte is decoded for real', () => {
    decodeOcspResponse(issuerSignedGood, ocspResponseFactsMemo);
    const changed = new Uint8Array(issuerSignedGood);
    // The last byte of the signature: still a valid encoding, other bytes.
    changed[changed.length - 1] ^= 1;
    const misses = ocspResponseFactsMemo.statistics.misses;
    const decoded = decodeOcspResponse(changed, ocspResponseFactsMemo);
    expect(ocspResponseFactsMemo.statistics.misses).toBe(misses + 1);
    expect(decoded.basic!.signature.at(-1)).toBe(changed.at(-1));
  });

  it('remember nothing for bytes that do not decode', () => {
    expect(() => decodeOcspResponse(new Uint8Array([0x30, 0x03, 0x0a, 0x01]), ocspResponseFactsMemo)).toThrow();
    expect(ocspResponseFactsMemo.size).toBe(0);
  });

  it('refuse shapes a decode never produces', () => {
    const { facts } = roundTrip(delegatedRevoked);
    const basic = facts.basic!;
    expect(isOcspResponseFacts({ ...facts, basic: { ...basic, responderKeyHash: [0, 20] } })).toBe(false);
    expect(isOcspResponseFacts({ ...facts, basic: { ...basic, tbs: [0, -1] } })).toBe(false);
    expect(isOcspResponseFacts({ ...facts, basic: { ...basic, singles: [{ ...basic.singles[0], certStatus: 'fine' }] } })).toBe(false);
    expect(isOcspResponseFacts({ ...facts, basic: { ...basic, producedAtMs: 'yesterday' } })).toBe(false);
    expect(isOcspResponseFacts([])).toBe(false);
  });
});

describe('certificate facts', () => {
  it('give the same certificate as a fresh decode', () => {
    const fresh = Certificate.fromDer(leafDer, undefined, memos);
    const key = computeSha256Hex(leafDer);
    const facts = JSON.parse(JSON.stringify(certificateFactsMemo.get(key)));
    expect(isCertificateFacts(facts)).toBe(true);
    certificateFactsMemo.clear();
    certificateFactsMemo.restore([[key, facts]]);
    const hits = certificateFactsMemo.statistics.hits;
    const restored = Certificate.fromDer(leafDer, undefined, memos);
    expect(certificateFactsMemo.statistics.hits).toBe(hits + 1);
    expect(restored.summary).toEqual(fresh.summary);
    expect(restored.extendedKeyUsages).toEqual(fresh.extendedKeyUsages);
    for (const field of ['subjectNameDer', 'issuerNameDer', 'publicKeyBits', 'subjectPublicKeyInfoDer', 'serialNumber'] as const) {
      expect(restored[field]).toEqual(fresh[field]);
    }
  });

  it('that do not fit the bytes are replaced by a real decode', () => {
    const fresh = Certificate.fromDer(leafDer, undefined, memos);
    const key = computeSha256Hex(leafDer);
    const facts = certificateFactsMemo.get(key)!;
    certificateFactsMemo.set(key, { ...facts, subject: 'CN=wrong', ranges: facts.ranges.map((offset) => offset + leafDer.length) });
    const again = Certificate.fromDer(leafDer, undefined, memos);
    expect(again.summary.subject).toBe(fresh.summary.subject);
    expect(certificateFactsMemo.get(key)!.subject).toBe(fresh.summary.subject);
  });

  it('refuse shapes a decode never produces', () => {
    Certificate.fromDer(leafDer, undefined, memos);
    const facts = certificateFactsMemo.get(computeSha256Hex(leafDer))!;
    expect(isCertificateFacts({ ...facts })).toBe(true);
    expect(isCertificateFacts({ ...facts, ranges: facts.ranges.slice(1) })).toBe(false);
    expect(isCertificateFacts({ ...facts, ocspUrls: [1] })).toBe(false);
    expect(isCertificateFacts({ ...facts, notAfterMs: null })).toBe(false);
  });
});
