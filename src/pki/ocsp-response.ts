// Validates a DER OCSP response for one certificate at an injected time: every check that guards a staple write.
import { StaplerdError, type ErrorCode } from '../errors/index.js';
import { Certificate } from './certificate.js';
import { DerError, equalBytes, normalizeSerialHex } from './der.js';
import { isSupportedHashOid } from './digest.js';
import {
  decodeOcspResponse, forgetDecodedOcspResponse, readNonceValue, type DecodedBasicResponse, type DecodedOcspResponse, type DecodedSingleResponse, type ResponderId,
} from './ocsp-decode.js';
import { OID } from './oids.js';
import { isRememberedSignature, type SignedBytes } from './signature.js';
import type { CertStatus, ValidatedResponse } from './types.js';
import type { ValidationMemos } from './validation-memos.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_LIFETIME_WITHOUT_NEXT_UPDATE_MS, DEFAULT_MIN_REMAINING_MS } from './validation-defaults.js';

export interface ValidationInput {
  issuer: Certificate;
  /** One of cert / serialHex is required. */
  cert?: Certificate;
  /** Any case, optional leading zeros tolerated. */
  serialHex?: string;
  /** Verification time (injected; never read the clock). */
  at: Date;
  clockSkewMs?: number;
  minRemainingMs?: number;
  /** How long after thisUpdate a response without nextUpdate stays usable; 0 refuses such responses. Default 1 day. */
  lifetimeWithoutNextUpdateMs?: number;
  expectedNonce?: Uint8Array;
  /** Names the file in errors. */
  file?: string;
  /** A pass's memos: decodes and verified signatures remembered there (docs/performance.md); none, nothing is. */
  memos?: ValidationMemos;
}

export { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MIN_REMAINING_MS, DEFAULT_LIFETIME_WITHOUT_NEXT_UPDATE_MS };

export interface InspectedOcspResponse {
  responseStatus: string;
  producedAt?: Date;
  singles: { serialHex: string; certStatus: CertStatus; thisUpdate: Date; nextUpdate?: Date }[];
}

/** responseStatus values other than successful, each with its own code (RFC 6960 4.2.1). */
const STATUS_CODES: Readonly<Record<string, ErrorCode>> = {
  malformedRequest: 'RESPONSE_MALFORMED_REQUEST',
  internalError: 'RESPONSE_INTERNAL_ERROR',
  tryLater: 'RESPONSE_TRY_LATER',
  sigRequired: 'RESPONSE_SIG_REQUIRED',
  unauthorized: 'RESPONSE_UNAUTHORIZED',
};

/** Returns the verified response for the certificate, whatever its status (the scheduler decides), or throws StaplerdError. */
export async function validateOcspResponse(der: Uint8Array, input: ValidationInput): Promise<ValidatedResponse> {
  try {
    return await validateOnce(der, input);
  } catch (error) {
    // Facts from the decoded-facts memo that fit these bytes yet describe them wrongly (a damaged state file) must
    // not cost a good staple: judge once more from a fresh decode before refusing.
    if (error instanceof StaplerdError && forgetDecodedOcspResponse(der, input.memos?.responses)) return validateOnce(der, input);
    throw error;
  }
}

/**
 * validateOcspResponse's result when it needs no promise: the issuer signed, the memo remembers that signature, and
 * every other check passes. Undefined otherwise (a signature to verify, a delegated responder, any failure), and the
 * caller asks validateOcspResponse, which judges the bytes in full and says why. A warm pass judges its staples so.
 */
export function validateRememberedOcspResponse(der: Uint8Array, input: ValidationInput): ValidatedResponse | undefined {
  try {
    const fail = failIn(input);
    const basic = readBasicResponse(der, fail, input.memos);
    const single = findSingleResponse(basic, input, fail);
    const signedBy = findRememberedIssuerSignature(basic, input);
    return signedBy && completeValidation(der, basic, single, signedBy, input, fail);
  } catch {
    return undefined;
  }
}

async function validateOnce(der: Uint8Array, input: ValidationInput): Promise<ValidatedResponse> {
  const fail = failIn(input);
  const basic = readBasicResponse(der, fail, input.memos);
  const single = findSingleResponse(basic, input, fail);
  const signedBy = findRememberedIssuerSignature(basic, input) ?? (await verifyResponseSignature(basic, input, fail));
  return completeValidation(der, basic, single, signedBy, input, fail);
}

function failIn(input: ValidationInput): Fail {
  return (code, message) => new StaplerdError(code, message, { file: input.file });
}

/** Rules 4 and 5 once the signer is known, and the validated response. */
function completeValidation(
  der: Uint8Array, basic: DecodedBasicResponse, single: DecodedSingleResponse, signedBy: 'issuer' | 'delegated', input: ValidationInput, fail: Fail,
): ValidatedResponse {
  const nextUpdate = checkTimeWindow(single, input, fail);
  checkNonce(basic, input, fail);
  return {
    der: new Uint8Array(der),
    certStatus: single.certStatus,
    // The certificate's own string when they are equal: one string per certificate kept through a pass, not two.
    serialHex: input.cert?.summary.serialHex === single.serialHex ? input.cert.summary.serialHex : single.serialHex,
    producedAt: basic.producedAt,
    thisUpdate: single.thisUpdate,
    nextUpdate,
    ...(single.nextUpdate ? {} : { nextUpdateImplied: true }),
    ...(single.revocationTime ? { revocationTime: single.revocationTime } : {}),
    ...(single.revocationReason ? { revocationReason: single.revocationReason } : {}),
    signedBy,
  };
}

/** Unverified look at a DER OCSPResponse, for display and quick comparisons. */
export function inspectOcspResponse(der: Uint8Array, memos?: ValidationMemos): InspectedOcspResponse {
  const fail = (code: ErrorCode, message: string): StaplerdError => new StaplerdError(code, message);
  const basic = readBasicResponse(der, fail, memos);
  return {
    responseStatus: 'successful',
    producedAt: basic.producedAt,
    singles: basic.singles.map((single) => ({
      serialHex: single.serialHex,
      certStatus: single.certStatus,
      thisUpdate: single.thisUpdate,
      ...(single.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
    })),
  };
}

type Fail = (code: ErrorCode, message: string) => StaplerdError;

/**
 * The decoded basicOCSPResponse, unverified, with the same error codes as inspectOcspResponse (one asn1js decode,
 * for callers that need the CertIDs as well).
 */
export function readBasicOcspResponse(der: Uint8Array): DecodedBasicResponse {
  return readBasicResponse(der, (code, message) => new StaplerdError(code, message));
}

/** Rule 1: complete DER, responseStatus successful, responseType id-pkix-ocsp-basic. */
function readBasicResponse(der: Uint8Array, fail: Fail, memos?: ValidationMemos): DecodedBasicResponse {
  let decoded: DecodedOcspResponse;
  try {
    decoded = decodeOcspResponse(der, memos?.responses);
  } catch (error) {
    if (error instanceof DerError) throw fail('RESPONSE_MALFORMED', `OCSP response is malformed: ${error.message}`);
    throw error;
  }
  const statusCode = STATUS_CODES[decoded.responseStatus];
  if (statusCode) throw fail(statusCode, `OCSP responder answered ${decoded.responseStatus}`);
  if (!decoded.basic) throw fail('RESPONSE_TYPE_UNSUPPORTED', `OCSP responseType ${decoded.responseType ?? '(none)'} is not id-pkix-ocsp-basic`);
  return decoded.basic;
}

/** Rule 2: a SingleResponse whose CertID names this serial and this issuer, hashed with the CertID's own algorithm. */
function findSingleResponse(basic: DecodedBasicResponse, input: ValidationInput, fail: Fail): DecodedSingleResponse {
  const serialHex = input.cert?.summary.serialHex ?? input.serialHex;
  if (serialHex === undefined) throw new StaplerdError('INTERNAL', 'validateOcspResponse needs cert or serialHex', { file: input.file });
  const match = basic.singles.find((single) => isSameSerial(single.serialHex, serialHex) && matchesIssuerHashes(single, input.issuer));
  if (!match) throw fail('RESPONSE_CERTID_MISMATCH', `OCSP response has no SingleResponse for serial ${serialHex} from issuer ${input.issuer.summary.subject}`);
  return match;
}

/** Equal serials, however written; the same text (the usual case: both decoded here) needs no normalising. */
function isSameSerial(a: string, b: string): boolean {
  return a === b || normalizeSerialHex(a) === normalizeSerialHex(b);
}

function matchesIssuerHashes(single: DecodedSingleResponse, issuer: Certificate): boolean {
  if (!isSupportedHashOid(single.hashAlgorithm)) return false;
  return equalBytes(single.issuerNameHash, issuer.nameHash(single.hashAlgorithm))
    && equalBytes(single.issuerKeyHash, issuer.keyHash(single.hashAlgorithm));
}

function signedBytesOf(basic: DecodedBasicResponse): SignedBytes {
  return { data: basic.tbsDer, signature: basic.signature, algorithmDer: basic.signatureAlgorithmDer };
}

/**
 * Rule 3's usual case, synchronously: the responderID names the issuer and the memo remembers that the issuer's key
 * verified this very signature (verified-signatures.ts). Undefined otherwise: verifyResponseSignature decides, with
 * the key or the delegated responder's authorisation checked for real.
 */
function findRememberedIssuerSignature(basic: DecodedBasicResponse, input: ValidationInput): 'issuer' | undefined {
  const memo = input.memos?.signatures;
  if (!memo || !matchesResponderId(basic.responderId, input.issuer)) return undefined;
  return isRememberedSignature(input.issuer.subjectPublicKeyInfoDer, signedBytesOf(basic), memo) ? 'issuer' : undefined;
}

/**
 * Rule 3 (RFC 6960 4.2.2.2): trusted signers are the issuer itself, or a responder certificate carried in the response
 * that the issuer signed for id-kp-OCSPSigning and that is valid at `at`. Nothing else (no local trust store).
 */
async function verifyResponseSignature(basic: DecodedBasicResponse, input: ValidationInput, fail: Fail): Promise<'issuer' | 'delegated'> {
  const signed = signedBytesOf(basic);
  if (matchesResponderId(basic.responderId, input.issuer)) {
    if (await input.issuer.verifies(signed, input.memos)) return 'issuer';
    throw fail('RESPONSE_UNVERIFIED', 'OCSP response signature does not verify with the issuer key');
  }
  const authorised = await findAuthorisedResponders(basic, input, fail);
  for (const responder of authorised) {
    if (await responder.verifies(signed, input.memos)) return 'delegated';
  }
  throw fail('RESPONSE_UNVERIFIED', 'OCSP response signature does not verify with the responder certificate');
}

/** Responder certificates in `certs` that match the responderID and that the issuer authorised; none is an error. */
async function findAuthorisedResponders(basic: DecodedBasicResponse, input: ValidationInput, fail: Fail): Promise<Certificate[]> {
  const candidates = parseResponseCerts(basic, input).filter((cert) => matchesResponderId(basic.responderId, cert));
  if (candidates.length === 0) throw fail('RESPONDER_UNAUTHORIZED', 'OCSP response is not signed by the issuer and carries no certificate matching its responderID');
  const authorised: Certificate[] = [];
  const reasons: string[] = [];
  for (const candidate of candidates) {
    const reason = await explainUnauthorised(candidate, input);
    if (reason === undefined) authorised.push(candidate);
    else reasons.push(reason);
  }
  if (authorised.length === 0) throw fail('RESPONDER_UNAUTHORIZED', `OCSP responder certificate is not authorised: ${reasons.join('; ')}`);
  return authorised;
}

/** Why the issuer did not delegate OCSP signing to `responder` at `at`, or undefined if it did (RFC 6960 4.2.2.2). */
async function explainUnauthorised(responder: Certificate, input: ValidationInput): Promise<string | undefined> {
  if (!(await responder.isIssuedBy(input.issuer, input.memos))) return `"${responder.summary.subject}" is not signed by the issuer`;
  if (!responder.extendedKeyUsages.includes(OID.ocspSigning)) return `"${responder.summary.subject}" lacks id-kp-OCSPSigning`;
  if (!responder.isValidAt(input.at)) return `"${responder.summary.subject}" is outside its validity period at ${input.at.toISOString()}`;
  return undefined;
}

/** A certificate in `certs` that does not parse makes the response malformed rather than untrusted. */
function parseResponseCerts(basic: DecodedBasicResponse, input: ValidationInput): Certificate[] {
  return basic.certs.map((der) => {
    try {
      return Certificate.fromDer(der, undefined, input.memos);
    } catch {
      throw new StaplerdError('RESPONSE_MALFORMED', 'OCSP response carries a certificate that does not parse', { file: input.file });
    }
  });
}

/** byName: the Name's DER equals the subject; byKey: SHA-1 of the subjectPublicKey (RFC 6960 4.2.1). */
function matchesResponderId(responderId: ResponderId, cert: Certificate): boolean {
  if (responderId.kind === 'name') return equalBytes(responderId.nameDer, cert.subjectNameDer);
  return equalBytes(responderId.keyHash, cert.keyHash(OID.sha1));
}

/**
 * Rule 4 (RFC 5019 4, RFC 6960 4.2.2.1): thisUpdate not in the future, and the end of the response's life not passed
 * nor too close. That end is nextUpdate, or for a response without one thisUpdate + lifetimeWithoutNextUpdateMs
 * (see DEFAULT_LIFETIME_WITHOUT_NEXT_UPDATE_MS); returns it.
 */
function checkTimeWindow(single: DecodedSingleResponse, input: ValidationInput, fail: Fail): Date {
  const atMs = input.at.getTime();
  const clockSkewMs = input.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const minRemainingMs = input.minRemainingMs ?? DEFAULT_MIN_REMAINING_MS;
  if (single.thisUpdate.getTime() > atMs + clockSkewMs) {
    throw fail('RESPONSE_NOT_YET_VALID', `OCSP response thisUpdate ${single.thisUpdate.toISOString()} is after ${input.at.toISOString()}`);
  }
  if (!single.nextUpdate) {
    // Without the bound a server (HAProxy, nginx) would staple it forever: it has no expiry of its own.
    const end = impliedNextUpdate(single.thisUpdate, input.lifetimeWithoutNextUpdateMs);
    if (end.getTime() <= atMs + minRemainingMs) {
      throw fail('RESPONSE_NO_NEXT_UPDATE', `OCSP response has no nextUpdate and its thisUpdate ${single.thisUpdate.toISOString()} is too old: usable until ${end.toISOString()}, which is passed or within ${minRemainingMs} ms of ${input.at.toISOString()}`);
    }
    return end;
  }
  if (single.nextUpdate.getTime() <= atMs + minRemainingMs) {
    throw fail('RESPONSE_EXPIRED', `OCSP response nextUpdate ${single.nextUpdate.toISOString()} is passed or within ${minRemainingMs} ms of ${input.at.toISOString()}`);
  }
  return single.nextUpdate;
}

/** The end of life of a response without nextUpdate: thisUpdate + the configured lifetime (default one day). */
export function impliedNextUpdate(thisUpdate: Date, lifetimeWithoutNextUpdateMs = DEFAULT_LIFETIME_WITHOUT_NEXT_UPDATE_MS): Date {
  return new Date(thisUpdate.getTime() + Math.max(0, lifetimeWithoutNextUpdateMs));
}

/** Rule 5 (RFC 8954): a nonce in the response must be ours; no nonce is fine (RFC 5019 responders ignore it). */
function checkNonce(basic: DecodedBasicResponse, input: ValidationInput, fail: Fail): void {
  if (!input.expectedNonce || !basic.nonceExtension) return;
  if (equalBytes(readNonceValue(basic.nonceExtension), input.expectedNonce)) return;
  throw fail('RESPONSE_NONCE_MISMATCH', 'OCSP response nonce differs from the request nonce');
}
