// The decoded-facts file codec: what goes in comes back equal through JSON, and any row it did not write is refused.
import { describe, it, expect, beforeAll } from '@jest/globals';
import { Certificate } from '../../src/pki/certificate.js';
import { createValidationMemos } from '../../src/pki/validation-memos.js';
import { decodeOcspResponse } from '../../src/pki/ocsp-decode.js';
import { encodeOcspErrorResponse, signOcspResponse } from '../../src/demo/sign-ocsp-response.js';
import { decodeDecodedFacts, encodeDecodedFacts, type DecodedFactsEntries } from '../../src/state/decoded-facts-file.js';
import { createTestPki } from '../helpers/test-pki.js';

const T0 = new Date('2026-11-27T12:00:00Z');
const HOUR_MS = 3_600_000;
let entries: DecodedFactsEntries;

beforeAll(async () => {
  const pki = await createTestPki({ now: T0 });
  const leaf = await pki.issueLeaf({ ocspUrls: ['http://127.0.0.1:1/'], mustStaple: true });
  const issuer = pki.authority.intermediate.certificate;
  const memos = createValidationMemos();
  const { certificates: certificateFactsMemo, responses: ocspResponseFactsMemo } = memos;
  for (const certificate of [leaf.certificate, issuer, pki.authority.responder.certificate]) Certificate.fromDer(certificate.der, undefined, memos);
  decodeOcspResponse(await signOcspResponse({
    signer: pki.authority.responder,
    responderIdBy: 'name',
    producedAt: T0,
    nonce: new Uint8Array([9, 8, 7]),
    answers: [{ certId: { cert: leaf.certificate, issuer }, status: 'revoked', revocationTime: T0, revocationReason: 4, thisUpdate: T0, nextUpdate: new Date(T0.getTime() + HOUR_MS) }],
  }), ocspResponseFactsMemo);
  decodeOcspResponse(await signOcspResponse({
    signer: pki.authority.intermediate,
    producedAt: T0,
    answers: [{ certId: { cert: leaf.certificate, issuer }, status: 'good', thisUpdate: T0, nextUpdate: null }],
  }), ocspResponseFactsMemo);
  decodeOcspResponse(encodeOcspErrorResponse('unauthorized'), ocspResponseFactsMemo);
  entries = { certificates: certificateFactsMemo.takeUsed(), responses: ocspResponseFactsMemo.takeUsed() };
});

function throughJson(value: unknown): ReturnType<typeof encodeDecodedFacts> {
  return JSON.parse(JSON.stringify(value)) as ReturnType<typeof encodeDecodedFacts>;
}

describe('decoded-facts file', () => {
  it('gives back exactly the entries it was given, through JSON', () => {
    expect(entries.certificates).toHaveLength(3);
    expect(entries.responses).toHaveLength(3);
    expect(entries.certificates.some(([, facts]) => facts.mustStaple)).toBe(true);
    expect(decodeDecodedFacts(throughJson(encodeDecodedFacts(entries, '1.2.3')))).toEqual(entries);
  });

  it('stores each repeated string once', () => {
    const file = encodeDecodedFacts(entries, '1.2.3');
    expect(new Set(file.strings).size).toBe(file.strings.length);
    expect(file.strings).toContain(entries.certificates[0]![1].issuer);
  });

  it.each([
    ['a string reference past the table', (file: ReturnType<typeof throughJson>) => { (file.certificates[0] as unknown[])[3] = 10_000; }],
    ['a certificate row of the wrong length', (file: ReturnType<typeof throughJson>) => { (file.certificates[0] as unknown[]).pop(); }],
    ['a key that is not a SHA-256', (file: ReturnType<typeof throughJson>) => { (file.responses[0] as unknown[])[0] = 'abc'; }],
    ['a negative offset', (file: ReturnType<typeof throughJson>) => { ((file.responses[0] as unknown[])[3] as unknown[])[0] = -5; }],
    ['an unknown certificate status', (file: ReturnType<typeof throughJson>) => { (file.strings as string[]).splice(0, file.strings.length, ...file.strings.map((s) => (s === 'revoked' ? 'maybe' : s))); }],
    ['a string table with a number', (file: ReturnType<typeof throughJson>) => { (file.strings as unknown[]).push(5); }],
    ['flags that are not a known combination', (file: ReturnType<typeof throughJson>) => { (file.certificates[0] as unknown[])[6] = '3'; }],
  ])('refuses %s', (_what, damage) => {
    const file = throughJson(encodeDecodedFacts(entries, '1.2.3'));
    damage(file);
    expect(() => decodeDecodedFacts(file)).toThrow();
  });
});
