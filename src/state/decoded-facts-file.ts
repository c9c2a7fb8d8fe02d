// The on-disk form of the decoded-facts memo (src/pki/decoded-facts.ts): rows of numbers with one shared string table.
//
// Why not plain JSON objects: for 10,000 certificates that file was 10 MB, read and written whole by every pass, and
// its text, buffer and parse tree were the largest transient allocations of a daemon's pass over fresh staples. Rows
// with field names dropped and repeated strings (issuer names, URLs, OIDs, statuses) stored once halve it. Every
// decoded entry is then checked with the same shape guards as before, so a damaged file is refused, never half used.
import {
  CERTIFICATE_RANGE_COUNT, isCertificateFacts, isOcspResponseFacts, type ByteRange, type CertificateFacts, type OcspResponseFacts,
} from '../pki/decoded-facts.js';

export const DECODED_FACTS_FILE_FORMAT = 2;

export interface DecodedFactsEntries {
  readonly certificates: readonly (readonly [string, CertificateFacts])[];
  readonly responses: readonly (readonly [string, OcspResponseFacts])[];
}

export interface DecodedFactsFile {
  readonly format: number;
  /**
   * Who decoded: staplerd's version and the decoder fingerprint (DECODER_REVISION, asn1js version). Facts another
   * decoder produced are dropped, not trusted.
   */
  readonly producer: string;
  readonly strings: readonly string[];
  readonly certificates: readonly unknown[];
  readonly responses: readonly unknown[];
}

const IS_CA = 1;
const MUST_STAPLE = 2;
const NONE = -1;
const KEY_PATTERN = /^[0-9a-f]{64}$/;

/** Rows for the facts, with a string table shared by all of them. */
export function encodeDecodedFacts(entries: DecodedFactsEntries, producer: string): DecodedFactsFile {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const ref = (value: string): number => {
    let at = index.get(value);
    if (at === undefined) {
      at = strings.push(value) - 1;
      index.set(value, at);
    }
    return at;
  };
  const certificates = entries.certificates.map(([key, facts]) => [
    key, facts.serialHex, facts.subject, ref(facts.issuer), facts.notBeforeMs, facts.notAfterMs,
    (facts.isCA ? IS_CA : 0) | (facts.mustStaple ? MUST_STAPLE : 0),
    facts.ocspUrls.map(ref), facts.caIssuersUrls.map(ref), facts.extendedKeyUsages.map(ref), facts.ranges,
  ]);
  const responses = entries.responses.map(([key, facts]) => {
    const basic = facts.basic;
    const row = [key, ref(facts.responseStatus), facts.responseType === undefined ? NONE : ref(facts.responseType)];
    if (!basic) return row;
    const responder = basic.responderName ?? basic.responderKeyHash!;
    return [...row, [
      ...basic.tbs, basic.responderName ? 1 : 2, ...responder, basic.producedAtMs, ...basic.signatureAlgorithm, ...basic.signature,
      ...(basic.nonceExtension ?? [NONE, NONE]), basic.certs.flat(),
      basic.singles.map((single) => [
        ref(single.hashAlgorithm), ...single.issuerNameHash, ...single.issuerKeyHash, single.serialHex, ref(single.certStatus),
        single.thisUpdateMs, single.nextUpdateMs ?? null, single.revocationTimeMs ?? null,
        single.revocationReason === undefined ? NONE : ref(single.revocationReason),
      ]),
    ]];
  });
  return { format: DECODED_FACTS_FILE_FORMAT, producer, strings, certificates, responses };
}

/** The entries a file holds; throws an Error saying what is wrong when any row is not one encodeDecodedFacts writes. */
export function decodeDecodedFacts(file: Pick<DecodedFactsFile, 'strings' | 'certificates' | 'responses'>): DecodedFactsEntries {
  const { strings } = file;
  if (!Array.isArray(strings) || !strings.every((value) => typeof value === 'string')) throw new Error('bad string table');
  if (!Array.isArray(file.certificates) || !Array.isArray(file.responses)) throw new Error('missing rows');
  const text = (at: unknown): string => {
    const value = typeof at === 'number' ? strings[at] : undefined;
    if (value === undefined) throw new Error('bad string reference');
    return value;
  };
  const texts = (refs: unknown): string[] => {
    if (!Array.isArray(refs)) throw new Error('bad string list');
    return refs.map(text);
  };
  const pairs = (flat: unknown): ByteRange[] => {
    if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new Error('bad range list');
    const ranges: ByteRange[] = [];
    for (let at = 0; at < flat.length; at += 2) ranges.push([flat[at], flat[at + 1]] as ByteRange);
    return ranges;
  };
  const row = (value: unknown, length: number): unknown[] => {
    if (!Array.isArray(value) || value.length !== length) throw new Error('bad row');
    return value;
  };
  const key = (value: unknown): string => {
    if (typeof value !== 'string' || !KEY_PATTERN.test(value)) throw new Error('bad key');
    return value;
  };

  const certificates = file.certificates.map((value): [string, CertificateFacts] => {
    const [id, serialHex, subject, issuer, notBeforeMs, notAfterMs, flags, ocspUrls, caIssuersUrls, extendedKeyUsages, ranges] = row(value, 11);
    if (flags !== 0 && flags !== IS_CA && flags !== MUST_STAPLE && flags !== (IS_CA | MUST_STAPLE)) throw new Error('bad flags');
    const facts = {
      serialHex, subject, issuer: text(issuer), notBeforeMs, notAfterMs,
      isCA: (flags & IS_CA) !== 0,
      mustStaple: (flags & MUST_STAPLE) !== 0,
      ocspUrls: texts(ocspUrls), caIssuersUrls: texts(caIssuersUrls), extendedKeyUsages: texts(extendedKeyUsages), ranges,
    };
    if (!isCertificateFacts(facts) || facts.ranges.length !== CERTIFICATE_RANGE_COUNT) throw new Error('bad certificate row');
    return [key(id), facts];
  });

  const responses = file.responses.map((value): [string, OcspResponseFacts] => {
    const fields = Array.isArray(value) && value.length === 4 ? value : row(value, 3);
    const [id, status, type, basicRow] = fields;
    const head = { responseStatus: text(status), ...(type === NONE ? {} : { responseType: text(type) }) };
    const facts = basicRow === undefined ? head : { ...head, basic: decodeBasicRow(basicRow) };
    if (!isOcspResponseFacts(facts)) throw new Error('bad response row');
    return [key(id), facts];
  });
  return { certificates, responses };

  function decodeBasicRow(value: unknown): unknown {
    const [tbs0, tbs1, responderKind, responder0, responder1, producedAtMs, algorithm0, algorithm1, signature0, signature1, nonce0, nonce1, certs, singles] = row(value, 14);
    if (!Array.isArray(singles)) throw new Error('bad singles');
    const responder = [responder0, responder1];
    return {
      tbs: [tbs0, tbs1],
      ...(responderKind === 1 ? { responderName: responder } : responderKind === 2 ? { responderKeyHash: responder } : {}),
      producedAtMs,
      singles: singles.map((single: unknown) => {
        const [hash, name0, name1, key0, key1, serialHex, certStatus, thisUpdateMs, nextUpdateMs, revocationTimeMs, reason] = row(single, 11);
        return {
          hashAlgorithm: text(hash), issuerNameHash: [name0, name1], issuerKeyHash: [key0, key1], serialHex, certStatus: text(certStatus), thisUpdateMs,
          ...(nextUpdateMs === null ? {} : { nextUpdateMs }),
          ...(revocationTimeMs === null ? {} : { revocationTimeMs }),
          ...(reason === NONE ? {} : { revocationReason: text(reason) }),
        };
      }),
      ...(nonce0 === NONE && nonce1 === NONE ? {} : { nonceExtension: [nonce0, nonce1] }),
      signatureAlgorithm: [algorithm0, algorithm1],
      signature: [signature0, signature1],
      certs: pairs(certs),
    };
  }
}
