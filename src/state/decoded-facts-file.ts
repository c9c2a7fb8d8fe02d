// The on-disk form of the decoded-facts memo (src/pki/decoded-facts.ts): fixed-width binary rows, one shared string
// table, and a SHA-256 of the whole file at its end.
//
// Why binary and not JSON: a warm restart over 10,000 certificates spent 0.35-0.4 s of its 2.7 s loading the JSON
// form (4.4 MB: parsing it built a tree of 20,000 row arrays, then every row was copied into facts), most of it
// parse and garbage (docs/performance.md, "Session 8"). Here each entry is read straight into its facts object.
// The checksum refuses a damaged file as a whole, and every entry is still checked with the shape guards a JSON
// row was, so a file this module did not write is never half used.
import { createHash } from 'node:crypto';
import { CHECKSUM_BYTES, RowReader, RowWriter } from './binary-rows.js';
import { isCertificateFacts, isOcspResponseFacts, type CertificateFacts, type OcspResponseFacts } from '../pki/decoded-facts.js';

/** Bump with any change to the layout below; a file of another format is a quiet miss, like another producer's. */
export const DECODED_FACTS_FILE_FORMAT = 3;
const MAGIC = Buffer.from(`staplerd-facts-${DECODED_FACTS_FILE_FORMAT}\n`, 'latin1');

// Flag bits. Certificates: ...
const IS_CA = 1;
const MUST_STAPLE = 2;
// ... responses ...
const HAS_TYPE = 1;
const HAS_BASIC = 2;
// ... basic responses (the responder is named by its Name or by its key's hash, RFC 6960 4.2.1) ...
const RESPONDER_BY_NAME = 1;
const HAS_NONCE = 2;
// ... single responses.
const HAS_NEXT_UPDATE = 1;
const HAS_REVOCATION_TIME = 2;
const HAS_REVOCATION_REASON = 4;

export interface DecodedFactsEntries {
  readonly certificates: readonly (readonly [string, CertificateFacts])[];
  readonly responses: readonly (readonly [string, OcspResponseFacts])[];
}

/** What a file holds: who wrote it (see describeProducer in validation-cache.ts) and, when it is ours, its entries. */
export type DecodedFactsRead =
  | { readonly kind: 'entries'; readonly entries: DecodedFactsEntries }
  | { readonly kind: 'other-producer' | 'other-format' };

/**
 * The file's bytes. `producer` says who decoded (staplerd's version and the decoder's fingerprint): facts another
 * decoder produced are dropped on reading, not trusted.
 */
export function encodeDecodedFacts(entries: DecodedFactsEntries, producer: string): Buffer {
  const writer = new RowWriter();
  writer.text(producer);
  writer.u32(entries.certificates.length);
  for (const [key, facts] of entries.certificates) writeCertificate(writer, key, facts);
  writer.u32(entries.responses.length);
  for (const [key, facts] of entries.responses) writeResponse(writer, key, facts);
  return writer.finish(MAGIC);
}

/**
 * The entries of a file encodeDecodedFacts wrote for `producer`; 'other-producer' or 'other-format' for a file it
 * wrote for another version. Throws an Error saying what is wrong for anything else (damage, truncation, a row that
 * fails the shape guards): such a file is refused whole.
 */
export function decodeDecodedFacts(file: Buffer, producer: string): DecodedFactsRead {
  if (file.length < MAGIC.length || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
    return file.subarray(0, 15).equals(MAGIC.subarray(0, 15)) ? { kind: 'other-format' } : fail('unknown format');
  }
  if (file.length < MAGIC.length + CHECKSUM_BYTES) fail('truncated');
  const body = file.subarray(0, file.length - CHECKSUM_BYTES);
  if (!createHash('sha256').update(body).digest().equals(file.subarray(body.length))) fail('checksum mismatch');
  const reader = new RowReader(body, MAGIC.length);
  if (reader.text() !== producer) return { kind: 'other-producer' };
  const certificates: [string, CertificateFacts][] = [];
  for (let count = reader.u32(); certificates.length < count;) certificates.push(readCertificate(reader));
  const responses: [string, OcspResponseFacts][] = [];
  for (let count = reader.u32(); responses.length < count;) responses.push(readResponse(reader));
  if (!reader.atEnd()) fail('bytes after the last entry');
  return { kind: 'entries', entries: { certificates, responses } };
}

function writeCertificate(writer: RowWriter, key: string, facts: CertificateFacts): void {
  writer.key(key);
  writer.ref(facts.serialHex);
  writer.ref(facts.subject);
  writer.ref(facts.issuer);
  writer.f64(facts.notBeforeMs);
  writer.f64(facts.notAfterMs);
  writer.u8((facts.isCA ? IS_CA : 0) | (facts.mustStaple ? MUST_STAPLE : 0));
  writer.refs(facts.ocspUrls);
  writer.refs(facts.caIssuersUrls);
  writer.refs(facts.extendedKeyUsages);
  writer.u32s(facts.ranges);
}

function readCertificate(reader: RowReader): [string, CertificateFacts] {
  const key = reader.key();
  const serialHex = reader.ref();
  const subject = reader.ref();
  const issuer = reader.ref();
  const notBeforeMs = reader.f64();
  const notAfterMs = reader.f64();
  const flags = reader.flags(IS_CA | MUST_STAPLE);
  const facts = {
    serialHex, subject, issuer, notBeforeMs, notAfterMs,
    isCA: (flags & IS_CA) !== 0,
    mustStaple: (flags & MUST_STAPLE) !== 0,
    ocspUrls: reader.refs(),
    caIssuersUrls: reader.refs(),
    extendedKeyUsages: reader.refs(),
    ranges: reader.u32s(),
  };
  if (!isCertificateFacts(facts)) fail('bad certificate entry');
  return [key, facts];
}

function writeResponse(writer: RowWriter, key: string, facts: OcspResponseFacts): void {
  const { basic } = facts;
  writer.key(key);
  writer.ref(facts.responseStatus);
  writer.u8((facts.responseType === undefined ? 0 : HAS_TYPE) | (basic ? HAS_BASIC : 0));
  if (facts.responseType !== undefined) writer.ref(facts.responseType);
  if (!basic) return;
  writer.u8((basic.responderName ? RESPONDER_BY_NAME : 0) | (basic.nonceExtension ? HAS_NONCE : 0));
  writer.range(basic.tbs);
  writer.range(basic.responderName ?? basic.responderKeyHash!);
  writer.f64(basic.producedAtMs);
  if (basic.nonceExtension) writer.range(basic.nonceExtension);
  writer.range(basic.signatureAlgorithm);
  writer.range(basic.signature);
  writer.u32s(basic.certs.flat());
  writer.u32(basic.singles.length);
  for (const single of basic.singles) {
    writer.u8((single.nextUpdateMs === undefined ? 0 : HAS_NEXT_UPDATE)
      | (single.revocationTimeMs === undefined ? 0 : HAS_REVOCATION_TIME)
      | (single.revocationReason === undefined ? 0 : HAS_REVOCATION_REASON));
    writer.ref(single.hashAlgorithm);
    writer.range(single.issuerNameHash);
    writer.range(single.issuerKeyHash);
    writer.ref(single.serialHex);
    writer.ref(single.certStatus);
    writer.f64(single.thisUpdateMs);
    if (single.nextUpdateMs !== undefined) writer.f64(single.nextUpdateMs);
    if (single.revocationTimeMs !== undefined) writer.f64(single.revocationTimeMs);
    if (single.revocationReason !== undefined) writer.ref(single.revocationReason);
  }
}

function readResponse(reader: RowReader): [string, OcspResponseFacts] {
  const key = reader.key();
  const facts: Record<string, unknown> = { responseStatus: reader.ref() };
  const flags = reader.flags(HAS_TYPE | HAS_BASIC);
  if (flags & HAS_TYPE) facts.responseType = reader.ref();
  if (flags & HAS_BASIC) facts.basic = readBasic(reader);
  if (!isOcspResponseFacts(facts)) fail('bad response entry');
  return [key, facts];
}

// Optional fields are left out, not set to undefined, as toOcspResponseFacts leaves them out.
function readBasic(reader: RowReader): unknown {
  const flags = reader.flags(RESPONDER_BY_NAME | HAS_NONCE);
  const basic: Record<string, unknown> = { tbs: reader.range() };
  basic[flags & RESPONDER_BY_NAME ? 'responderName' : 'responderKeyHash'] = reader.range();
  basic.producedAtMs = reader.f64();
  if (flags & HAS_NONCE) basic.nonceExtension = reader.range();
  basic.signatureAlgorithm = reader.range();
  basic.signature = reader.range();
  basic.certs = reader.ranges();
  const singles: unknown[] = [];
  for (let count = reader.u32(); singles.length < count;) singles.push(readSingle(reader));
  basic.singles = singles;
  return basic;
}

function readSingle(reader: RowReader): unknown {
  const flags = reader.flags(HAS_NEXT_UPDATE | HAS_REVOCATION_TIME | HAS_REVOCATION_REASON);
  const single: Record<string, unknown> = {
    hashAlgorithm: reader.ref(),
    issuerNameHash: reader.range(),
    issuerKeyHash: reader.range(),
    serialHex: reader.ref(),
    certStatus: reader.ref(),
    thisUpdateMs: reader.f64(),
  };
  if (flags & HAS_NEXT_UPDATE) single.nextUpdateMs = reader.f64();
  if (flags & HAS_REVOCATION_TIME) single.revocationTimeMs = reader.f64();
  if (flags & HAS_REVOCATION_REASON) single.revocationReason = reader.ref();
  return single;
}

function fail(reason: string): never {
  throw new Error(reason);
}
