// Remembers what asn1js read out of certificates and OCSP responses, keyed by the SHA-256 of their exact bytes, so a
// pass over unchanged files (every daemon pass, or a restart with the memo restored from the state directory) does
// not decode them again: decoding is most of a pass over fresh staples (docs/performance.md).
//
// Only decoding is skipped. A fact "these bytes decode to these fields" cannot go stale: changed bytes are a different
// key, hence a real decode. Every check that uses the fields (CertID against the issuer, responder authorisation,
// signatures, thisUpdate/nextUpdate against the clock, nonce) still runs on every use. Byte fields are kept as
// [start, end) ranges into the DER they were read from, so an entry holds numbers and short strings, not bytes.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DerError } from './der.js';
import { UsageTrackedMemo } from './usage-tracked-memo.js';
import { intern, internList } from './intern.js';
import type { DecodedBasicResponse, DecodedOcspResponse, DecodedSingleResponse, ResponderId } from './ocsp-decode.js';
import type { CertStatus } from './types.js';

/** [start, end) into the DER the entry describes. */
export type ByteRange = readonly [number, number];

/** A certificate's plain fields, as Certificate keeps them (see certificate.ts for what each range is). */
export interface CertificateFacts {
  readonly serialHex: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly isCA: boolean;
  readonly ocspUrls: readonly string[];
  readonly caIssuersUrls: readonly string[];
  readonly mustStaple: boolean;
  readonly extendedKeyUsages: readonly string[];
  /** Start and end offsets of the fields Certificate reads, in its field order. */
  readonly ranges: readonly number[];
}

interface SingleResponseFacts {
  readonly hashAlgorithm: string;
  readonly issuerNameHash: ByteRange;
  readonly issuerKeyHash: ByteRange;
  readonly serialHex: string;
  readonly certStatus: CertStatus;
  readonly revocationTimeMs?: number;
  readonly revocationReason?: string;
  readonly thisUpdateMs: number;
  readonly nextUpdateMs?: number;
}

interface BasicResponseFacts {
  readonly tbs: ByteRange;
  readonly responderName?: ByteRange;
  readonly responderKeyHash?: ByteRange;
  readonly producedAtMs: number;
  readonly singles: readonly SingleResponseFacts[];
  readonly nonceExtension?: ByteRange;
  readonly signatureAlgorithm: ByteRange;
  readonly signature: ByteRange;
  readonly certs: readonly ByteRange[];
}

export interface OcspResponseFacts {
  readonly responseStatus: string;
  readonly responseType?: string;
  readonly basic?: BasicResponseFacts;
}

/** Number of start/end offsets in CertificateFacts.ranges. */
export const CERTIFICATE_RANGE_COUNT = 16;

/**
 * Bump with any change to what the decoders (x509-fields.ts, ocsp-decode.ts, der.ts) accept or read. Saved facts
 * carry it with the asn1js version (decoderFingerprint): facts another decoder produced are dropped, never trusted.
 * A change to these shapes needs DECODED_FACTS_FILE_FORMAT in src/state/decoded-facts-file.ts bumped instead.
 */
export const DECODER_REVISION = 1;

/** Which decoder produced facts: this revision with the asn1js actually installed (its ^4 range allows updates). */
export function decoderFingerprint(): string {
  return `staplerd-decoder-${DECODER_REVISION} asn1js-${readAsn1jsVersion()}`;
}

let asn1jsVersion: string | undefined;

function readAsn1jsVersion(): string {
  if (asn1jsVersion !== undefined) return asn1jsVersion;
  asn1jsVersion = 'unknown';
  try {
    // The package's entry point, then up to its own package.json (asn1js does not export ./package.json).
    for (let dir = path.dirname(fileURLToPath(import.meta.resolve('asn1js'))); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const file = path.join(dir, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'asn1js' && pkg.version) asn1jsVersion = pkg.version;
      break;
    }
  } catch {
    // 'unknown': still one value per installation, so the cache keeps working.
  }
  return asn1jsVersion;
}

/** A pass needs one entry per distinct certificate and one per staple; 100,000 certificates fit twice. */
const MAX_ENTRIES = 400_000;

// Created by createValidationMemos (validation-memos.ts) for callers that also prune them after each pass
// (saveValidationCache keeps only what the pass used). A long-running library user (node-tls) hands none: it re-reads
// only changed staples anyway, and would otherwise let them grow up to MAX_ENTRIES.

/** Facts by the SHA-256 (hex) of a certificate's DER: the fingerprint Certificate computes anyway. */
export function createCertificateFactsMemo(): UsageTrackedMemo<CertificateFacts> {
  return new UsageTrackedMemo<CertificateFacts>(MAX_ENTRIES);
}

/** Facts by the SHA-256 (hex) of an OCSPResponse's DER. */
export function createOcspResponseFactsMemo(): UsageTrackedMemo<OcspResponseFacts> {
  return new UsageTrackedMemo<OcspResponseFacts>(MAX_ENTRIES);
}

/** Where `view` lies in `der`; throws when it is not a view of those very bytes (such a decode is not remembered). */
export function locateIn(der: Uint8Array, view: Uint8Array): ByteRange {
  const start = view.byteOffset - der.byteOffset;
  if (view.buffer !== der.buffer || start < 0 || start + view.byteLength > der.byteLength) {
    throw new Error('decoded field is not a view of the decoded bytes');
  }
  return [start, start + view.byteLength];
}

/** The bytes of a remembered range; DerError when it does not fit (an entry that does not describe these bytes). */
export function sliceRange(der: Uint8Array, range: ByteRange): Uint8Array {
  const [start, end] = range;
  if (!(start >= 0 && start <= end && end <= der.byteLength)) throw new DerError('remembered field lies outside the bytes');
  return der.subarray(start, end);
}

/** Whether every offset pair of a certificate entry fits in `length` bytes. */
export function rangesFit(ranges: readonly number[], length: number): boolean {
  for (let index = 0; index < ranges.length; index += 2) {
    const start = ranges[index]!;
    const end = ranges[index + 1]!;
    if (!(start >= 0 && start <= end && end <= length)) return false;
  }
  return true;
}

export function toOcspResponseFacts(der: Uint8Array, decoded: DecodedOcspResponse): OcspResponseFacts {
  const at = (view: Uint8Array): ByteRange => locateIn(der, view);
  const basic = decoded.basic;
  if (!basic) return { responseStatus: decoded.responseStatus, ...(decoded.responseType ? { responseType: decoded.responseType } : {}) };
  return {
    responseStatus: decoded.responseStatus,
    ...(decoded.responseType ? { responseType: decoded.responseType } : {}),
    basic: {
      tbs: at(basic.tbsDer),
      ...(basic.responderId.kind === 'name' ? { responderName: at(basic.responderId.nameDer) } : { responderKeyHash: at(basic.responderId.keyHash) }),
      producedAtMs: basic.producedAt.getTime(),
      singles: basic.singles.map((single) => ({
        hashAlgorithm: single.hashAlgorithm,
        issuerNameHash: at(single.issuerNameHash),
        issuerKeyHash: at(single.issuerKeyHash),
        serialHex: single.serialHex,
        certStatus: single.certStatus,
        ...(single.revocationTime ? { revocationTimeMs: single.revocationTime.getTime() } : {}),
        ...(single.revocationReason !== undefined ? { revocationReason: single.revocationReason } : {}),
        thisUpdateMs: single.thisUpdate.getTime(),
        ...(single.nextUpdate ? { nextUpdateMs: single.nextUpdate.getTime() } : {}),
      })),
      ...(basic.nonceExtension ? { nonceExtension: at(basic.nonceExtension) } : {}),
      signatureAlgorithm: at(basic.signatureAlgorithmDer),
      signature: at(basic.signature),
      certs: basic.certs.map(at),
    },
  };
}

/** The decoded response the facts describe, with its byte fields as views of `der`. Throws DerError if they do not fit. */
export function fromOcspResponseFacts(der: Uint8Array, facts: OcspResponseFacts): DecodedOcspResponse {
  const head = { responseStatus: facts.responseStatus, ...(facts.responseType ? { responseType: facts.responseType } : {}) };
  const basic = facts.basic;
  if (!basic) return head;
  const bytes = (range: ByteRange): Uint8Array => sliceRange(der, range);
  const responderId: ResponderId = basic.responderName
    ? { kind: 'name', nameDer: bytes(basic.responderName) }
    : { kind: 'key', keyHash: bytes(basic.responderKeyHash!) };
  const singles = basic.singles.map((single): DecodedSingleResponse => ({
    hashAlgorithm: single.hashAlgorithm,
    issuerNameHash: bytes(single.issuerNameHash),
    issuerKeyHash: bytes(single.issuerKeyHash),
    serialHex: single.serialHex,
    certStatus: single.certStatus,
    ...(single.revocationTimeMs !== undefined ? { revocationTime: new Date(single.revocationTimeMs) } : {}),
    ...(single.revocationReason !== undefined ? { revocationReason: single.revocationReason } : {}),
    thisUpdate: new Date(single.thisUpdateMs),
    ...(single.nextUpdateMs !== undefined ? { nextUpdate: new Date(single.nextUpdateMs) } : {}),
  }));
  const decodedBasic: DecodedBasicResponse = {
    tbsDer: bytes(basic.tbs),
    responderId,
    producedAt: new Date(basic.producedAtMs),
    singles,
    ...(basic.nonceExtension ? { nonceExtension: bytes(basic.nonceExtension) } : {}),
    signatureAlgorithmDer: bytes(basic.signatureAlgorithm),
    signature: bytes(basic.signature),
    certs: basic.certs.map(bytes),
  };
  return { ...head, basic: decodedBasic };
}

// Shape checks for entries read back from the state directory: a damaged or foreign file must not crash a pass.

const isString = (value: unknown): value is string => typeof value === 'string';
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isOffset = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const isRange = (value: unknown): value is ByteRange => Array.isArray(value) && value.length === 2 && value.every(isOffset);
const CERT_STATUSES: readonly unknown[] = ['good', 'revoked', 'unknown'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optional(value: unknown, check: (value: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

export function isCertificateFacts(value: unknown): value is CertificateFacts {
  return isRecord(value)
    && isString(value.serialHex) && isString(value.subject) && isString(value.issuer)
    && isTime(value.notBeforeMs) && isTime(value.notAfterMs)
    && typeof value.isCA === 'boolean' && typeof value.mustStaple === 'boolean'
    && isStringList(value.ocspUrls) && isStringList(value.caIssuersUrls) && isStringList(value.extendedKeyUsages)
    && Array.isArray(value.ranges) && value.ranges.length === CERTIFICATE_RANGE_COUNT && value.ranges.every(isOffset);
}

function isSingleResponseFacts(value: unknown): boolean {
  return isRecord(value)
    && isString(value.hashAlgorithm) && isRange(value.issuerNameHash) && isRange(value.issuerKeyHash) && isString(value.serialHex)
    && CERT_STATUSES.includes(value.certStatus)
    && optional(value.revocationTimeMs, isTime) && optional(value.revocationReason, isString)
    && isTime(value.thisUpdateMs) && optional(value.nextUpdateMs, isTime);
}

function isBasicResponseFacts(value: unknown): boolean {
  return isRecord(value)
    && isRange(value.tbs)
    && (isRange(value.responderName) !== isRange(value.responderKeyHash))
    && isTime(value.producedAtMs)
    && Array.isArray(value.singles) && value.singles.every(isSingleResponseFacts)
    && optional(value.nonceExtension, isRange)
    && isRange(value.signatureAlgorithm) && isRange(value.signature)
    && Array.isArray(value.certs) && value.certs.every(isRange);
}

export function isOcspResponseFacts(value: unknown): value is OcspResponseFacts {
  return isRecord(value) && isString(value.responseStatus) && optional(value.responseType, isString) && optional(value.basic, isBasicResponseFacts);
}

/** An entry read back from disk with its shared strings interned, as a fresh decode would have them. */
export function normalizeCertificateFacts(facts: CertificateFacts): CertificateFacts {
  return {
    ...facts,
    issuer: intern(facts.issuer),
    ocspUrls: internList(facts.ocspUrls),
    caIssuersUrls: internList(facts.caIssuersUrls),
    extendedKeyUsages: internList(facts.extendedKeyUsages),
  };
}
