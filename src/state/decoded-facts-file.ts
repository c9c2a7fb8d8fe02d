// The on-disk form of the decoded-facts memo (src/pki/decoded-facts.ts): one binary row per entry, one shared string
// table, and a SHA-256 of the whole file at its end.
//
// Why binary and not JSON: a warm restart over 10,000 certificates spent 0.35-0.4 s of its 2.7 s loading the JSON
// form (4.4 MB: parsing it built a tree of 20,000 row arrays, then every row was copied into facts), and the facts
// then stayed in the heap (docs/performance.md, "Session 8"). Here opening a file only checks its checksum and notes
// where each row is; a row becomes facts when the memo looks its key up (StoredEntries), checked then with the same
// shape guards a JSON row was. The checksum refuses a damaged file as a whole; a row that still fails its guards
// (only a broken writer could make one) is a miss, decoded for real, never half used.
import { checkedBody, fail, KEY_BYTES, RowReader, RowWriter } from './binary-rows.js';
import { isCertificateFacts, isOcspResponseFacts, type CertificateFacts, type OcspResponseFacts } from '../pki/decoded-facts.js';
import type { StoredEntries } from '../pki/usage-tracked-memo.js';

/** Bump with any change to the layout below; a file of another format is a quiet miss, like another producer's. */
export const DECODED_FACTS_FILE_FORMAT = 3;
/** What every format's magic starts with: a file that starts so is ours, whatever its format. */
const MAGIC_PREFIX = 'staplerd-facts-';
const MAGIC = Buffer.from(`${MAGIC_PREFIX}${DECODED_FACTS_FILE_FORMAT}\n`, 'latin1');

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

/** What a file written by another producer or in another format gives: nothing, quietly (an upgrade). */
export interface ForeignDecodedFacts {
  readonly kind: 'other-producer' | 'other-format';
}

/** A file of ours, opened: its entries, read when looked up. */
export interface StoredDecodedFacts {
  readonly kind: 'stored';
  readonly certificates: StoredEntries<CertificateFacts>;
  readonly responses: StoredEntries<OcspResponseFacts>;
}

/**
 * The file's bytes. `producer` says who decoded (staplerd's version and the decoder's fingerprint): facts another
 * decoder produced are dropped on reading, not trusted.
 */
export function encodeDecodedFacts(entries: DecodedFactsEntries, producer: string): Buffer {
  const writer = new RowWriter();
  writer.text(producer);
  writeRows(writer, entries.certificates, writeCertificate);
  writeRows(writer, entries.responses, writeResponse);
  return writer.finish(MAGIC);
}

/**
 * A file encodeDecodedFacts wrote for `producer`, opened; 'other-producer' or 'other-format' for one it wrote for
 * another version. Throws an Error saying what is wrong for anything else (damage, truncation, rows that do not
 * fill the file): such a file is refused whole.
 */
export function openDecodedFacts(file: Buffer, producer: string): StoredDecodedFacts | ForeignDecodedFacts {
  if (file.length < MAGIC.length || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
    return file.toString('latin1', 0, MAGIC_PREFIX.length) === MAGIC_PREFIX ? { kind: 'other-format' } : fail('unknown format');
  }
  const body = checkedBody(file, MAGIC);
  const reader = new RowReader(body, MAGIC.length);
  if (reader.text() !== producer) return { kind: 'other-producer' };
  const certificates = new StoredRows(reader, readCertificate);
  const responses = new StoredRows(reader, readResponse);
  if (!reader.atEnd()) fail('bytes after the last entry');
  return { kind: 'stored', certificates, responses };
}

/** Every entry of a file openDecodedFacts accepts, read at once; throws for the first that fails its guards. */
export function decodeDecodedFacts(file: Buffer, producer: string): { readonly kind: 'entries'; readonly entries: DecodedFactsEntries } | ForeignDecodedFacts {
  const opened = openDecodedFacts(file, producer);
  if (opened.kind !== 'stored') return opened;
  const all = <V>(rows: StoredEntries<V>): [string, V][] => rows.keys.map((key, index) => [key, (rows as StoredRows<V>).readOrThrow(index)]);
  return { kind: 'entries', entries: { certificates: all(opened.certificates), responses: all(opened.responses) } };
}

/** One kind of entry: a count, then rows, each its key and fields. Notes where each row is; reads it on demand. */
class StoredRows<V> implements StoredEntries<V> {
  readonly keys: string[] = [];
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  readonly #reader: RowReader;
  readonly #readFields: (reader: RowReader) => V;

  constructor(reader: RowReader, readFields: (reader: RowReader) => V) {
    this.#reader = reader;
    this.#readFields = readFields;
    for (let count = reader.u32(); this.keys.length < count;) {
      const { start, end } = reader.skipRow();
      if (end - start < KEY_BYTES) fail('row shorter than its key');
      reader.seek(start);
      this.keys.push(reader.key());
      reader.seek(end);
      this.#starts.push(start + KEY_BYTES);
      this.#ends.push(end);
    }
  }

  read(index: number): V | undefined {
    try {
      return this.readOrThrow(index);
    } catch {
      return undefined;
    }
  }

  readOrThrow(index: number): V {
    const reader = this.#reader;
    const position = reader.position;
    try {
      reader.seek(this.#starts[index]!, this.#ends[index]);
      const value = this.#readFields(reader);
      if (reader.position !== this.#ends[index]) fail('row longer than its fields');
      return value;
    } finally {
      reader.seek(position);
    }
  }
}

function writeRows<V>(writer: RowWriter, entries: readonly (readonly [string, V])[], writeFields: (writer: RowWriter, facts: V) => void): void {
  writer.u32(entries.length);
  for (const [key, facts] of entries) {
    const start = writer.beginRow();
    writer.key(key);
    writeFields(writer, facts);
    writer.endRow(start);
  }
}

function writeCertificate(writer: RowWriter, facts: CertificateFacts): void {
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

function readCertificate(reader: RowReader): CertificateFacts {
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
  return facts;
}

function writeResponse(writer: RowWriter, facts: OcspResponseFacts): void {
  const { basic } = facts;
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

function readResponse(reader: RowReader): OcspResponseFacts {
  const facts: Record<string, unknown> = { responseStatus: reader.ref() };
  const flags = reader.flags(HAS_TYPE | HAS_BASIC);
  if (flags & HAS_TYPE) facts.responseType = reader.ref();
  if (flags & HAS_BASIC) facts.basic = readBasic(reader);
  if (!isOcspResponseFacts(facts)) fail('bad response entry');
  return facts;
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

