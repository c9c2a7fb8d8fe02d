// The decoded-facts file codec: what goes in comes back equal, and any file or row it did not write is refused.
import { describe, it, expect, beforeAll } from '@jest/globals';
import { createHash } from 'node:crypto';
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

const PRODUCER = 'staplerd-1.2.3 staplerd-decoder-1 asn1js-4.0.0';

/** The bytes after the string table and the producer: where the first certificate row starts. */
function firstRowOffset(file: Buffer): number {
  let at = 'staplerd-facts-3\n'.length;
  const skipString = (): void => {
    at += 4 + file.readUInt32LE(at);
  };
  const count = file.readUInt32LE(at);
  at += 4;
  for (let index = 0; index < count; index += 1) skipString();
  skipString(); // the producer
  return at + 4 + 4; // the certificate count, the row's length
}

/** The file with `edit` applied and its checksum made right again: damage the checksum alone would not reveal. */
function resealed(file: Buffer, edit: (body: Buffer) => unknown): Buffer {
  const copy = Buffer.from(file.subarray(0, file.length - 32));
  const edited = edit(copy);
  const body = Buffer.isBuffer(edited) ? edited : copy;
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

function decodedEntries(file: Buffer): DecodedFactsEntries {
  const read = decodeDecodedFacts(file, PRODUCER);
  if (read.kind !== 'entries') throw new Error(`expected entries, got ${read.kind}`);
  return read.entries;
}

/** Entries as plain data, to be edited into ones encodeDecodedFacts writes but would never be given. */
function editedEntries(edit: (copy: { certificates: [string, Record<string, unknown>][]; responses: [string, Record<string, unknown>][] }) => void): DecodedFactsEntries {
  const copy = JSON.parse(JSON.stringify(entries)) as Parameters<typeof edit>[0];
  edit(copy);
  return copy as unknown as DecodedFactsEntries;
}

describe('decoded-facts file', () => {
  it('gives back exactly the entries it was given', () => {
    expect(entries.certificates).toHaveLength(3);
    expect(entries.responses).toHaveLength(3);
    expect(entries.certificates.some(([, facts]) => facts.mustStaple)).toBe(true);
    expect(decodedEntries(encodeDecodedFacts(entries, PRODUCER))).toEqual(entries);
  });

  it('keeps any string exactly, lone surrogates and NUL included', () => {
    const odd = editedEntries((copy) => {
      copy.certificates[0]![1].subject = 'CN=\ud800 a\u0000b \u00e9';
    });
    expect(decodedEntries(encodeDecodedFacts(odd, PRODUCER)).certificates[0]![1].subject).toBe('CN=\ud800 a\u0000b \u00e9');
  });

  it('stores each repeated string once', () => {
    const file = encodeDecodedFacts(entries, PRODUCER);
    const issuer = Buffer.from(entries.certificates[0]![1].issuer, 'utf16le');
    expect(entries.certificates.filter(([, facts]) => facts.issuer === entries.certificates[0]![1].issuer).length).toBeGreaterThan(1);
    expect(file.indexOf(issuer)).toBeGreaterThan(0);
    expect(file.indexOf(issuer, file.indexOf(issuer) + 1)).toBe(-1);
  });

  it('tells a file written for another producer or another format from a damaged one', () => {
    const file = encodeDecodedFacts(entries, PRODUCER);
    expect(decodeDecodedFacts(file, 'staplerd-9.9.9 staplerd-decoder-1 asn1js-4.0.0')).toEqual({ kind: 'other-producer' });
    const nextFormat = Buffer.concat([Buffer.from('staplerd-facts-4\n'), file.subarray('staplerd-facts-3\n'.length)]);
    expect(decodeDecodedFacts(nextFormat, PRODUCER)).toEqual({ kind: 'other-format' });
  });

  it.each([
    ['a file that is not one', /unknown format/, () => Buffer.from('{"format":2}')],
    ['a truncated file', /checksum/, (file: Buffer) => file.subarray(0, file.length - 40)],
    ['a flipped byte', /checksum/, (file: Buffer) => {
      const flipped = Buffer.from(file);
      flipped[200]! ^= 1;
      return flipped;
    }],
    ['bytes appended', /checksum/, (file: Buffer) => Buffer.concat([file, Buffer.from([1, 2, 3])])],
    ['a string reference past the table', /bad string reference/, (file: Buffer) => resealed(file, (body) => body.writeUInt32LE(10_000, firstRowOffset(file) + 32))],
    ['flags that are not a known combination', /bad flags/, (file: Buffer) => resealed(file, (body) => {
      body[firstRowOffset(file) + 32 + 12 + 16] = 4;
    })],
    ['an entry count larger than the entries', /./, (file: Buffer) => resealed(file, (body) => body.writeUInt32LE(4, firstRowOffset(file) - 8))],
    ['a row longer than its fields', /row longer than its fields/, (file: Buffer) => resealed(file, (body) => {
      const start = firstRowOffset(file);
      const length = body.readUInt32LE(start - 4);
      body.writeUInt32LE(length + 4, start - 4);
      return Buffer.concat([body.subarray(0, start + length), Buffer.alloc(4), body.subarray(start + length)]);
    })],
    ['a count that runs past its row into the next', /truncated/, (file: Buffer) => resealed(file, (body) => {
      // The row ends with its 16 range offsets and their count: 17 would take the next row's first 4 bytes.
      const start = firstRowOffset(file);
      body.writeUInt32LE(17, start + body.readUInt32LE(start - 4) - 4 - 16 * 4);
    })],
    ['an unknown certificate status', /bad response entry/, () => encodeDecodedFacts(editedEntries((copy) => {
      ((copy.responses[0]![1].basic as { singles: { certStatus: string }[] }).singles[0]!).certStatus = 'maybe';
    }), PRODUCER)],
    ['a certificate with too few offsets', /bad certificate entry/, () => encodeDecodedFacts(editedEntries((copy) => {
      copy.certificates[0]![1].ranges = [1, 2, 3];
    }), PRODUCER)],
  ])('refuses %s', (_what, reason, damage) => {
    const file = encodeDecodedFacts(entries, PRODUCER);
    expect(decodedEntries(file)).toEqual(entries);
    expect(() => decodeDecodedFacts(damage(file), PRODUCER)).toThrow(reason);
  });
});
