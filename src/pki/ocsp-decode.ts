// Decodes a DER OCSPResponse (RFC 6960 4.2.1) into plain fields plus the original bytes that signatures and hashes cover.
import * as asn1js from 'asn1js';
import type { CertStatus } from './types.js';
import {
  DerError, readChildren, decodeComplete, expectBitString, expectGeneralizedTime, expectInteger, expectOctetString, expectOid,
  expectSequence, unwrapExplicit, isContextTag, readEncoding, serialToHex,
} from './der.js';
import { OID } from './oids.js';
import { computeSha256Hex } from './digest.js';
import { fromOcspResponseFacts, toOcspResponseFacts, type OcspResponseFacts } from './decoded-facts.js';
import type { UsageTrackedMemo } from './usage-tracked-memo.js';

/** OCSPResponseStatus (RFC 6960 4.2.1); 4 is not used. */
export const RESPONSE_STATUS_NAMES: Readonly<Record<number, string>> = {
  0: 'successful', 1: 'malformedRequest', 2: 'internalError', 3: 'tryLater', 5: 'sigRequired', 6: 'unauthorized',
};

/** CRLReason (RFC 5280 5.3.1); 7 is not used. */
const CRL_REASON_NAMES: Readonly<Record<number, string>> = {
  0: 'unspecified', 1: 'keyCompromise', 2: 'cACompromise', 3: 'affiliationChanged', 4: 'superseded',
  5: 'cessationOfOperation', 6: 'certificateHold', 8: 'removeFromCRL', 9: 'privilegeWithdrawn', 10: 'aACompromise',
};

export type ResponderId = { readonly kind: 'name'; readonly nameDer: Uint8Array } | { readonly kind: 'key'; readonly keyHash: Uint8Array };

export interface DecodedSingleResponse {
  readonly hashAlgorithm: string;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  readonly serialHex: string;
  readonly certStatus: CertStatus;
  readonly revocationTime?: Date;
  readonly revocationReason?: string;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
}

export interface DecodedBasicResponse {
  /** The original encoding of tbsResponseData: the signed bytes (RFC 6960 4.2.1). */
  readonly tbsDer: Uint8Array;
  readonly responderId: ResponderId;
  readonly producedAt: Date;
  readonly singles: readonly DecodedSingleResponse[];
  /** extnValue of the id-pkix-ocsp-nonce response extension, when present. */
  readonly nonceExtension?: Uint8Array;
  readonly signatureAlgorithmDer: Uint8Array;
  readonly signature: Uint8Array;
  /** DER of each certificate in `certs`, in response order. */
  readonly certs: readonly Uint8Array[];
}

export interface DecodedOcspResponse {
  readonly responseStatus: string;
  readonly responseType?: string;
  /** Present when responseType is id-pkix-ocsp-basic. */
  readonly basic?: DecodedBasicResponse;
}

/**
 * Decodes an OCSPResponse, or returns what an earlier decode of the very same bytes read (src/pki/decoded-facts.ts).
 * Throws DerError. The byte fields are views of `der`, which must not be modified while they are used.
 */
export function decodeOcspResponse(der: Uint8Array, memo?: UsageTrackedMemo<OcspResponseFacts>): DecodedOcspResponse {
  // No memo handed down (see validation-memos.ts): no hash, no facts to build.
  if (!memo) return decodeOcspResponseDer(der);
  const key = computeSha256Hex(der);
  const known = memo.get(key);
  if (known) {
    try {
      return fromOcspResponseFacts(der, known);
    } catch {
      // An entry that does not fit these bytes (a damaged state file): decode for real and replace it.
      memo.delete(key);
    }
  }
  const decoded = decodeOcspResponseDer(der);
  rememberDecoded(memo, key, der, decoded);
  return decoded;
}

/** Drops what the memo holds for these bytes; true if it held something (the next decode is then a real one). */
export function forgetDecodedOcspResponse(der: Uint8Array, memo?: UsageTrackedMemo<OcspResponseFacts>): boolean {
  if (!memo) return false;
  const key = computeSha256Hex(der);
  if (!memo.knows(key)) return false;
  memo.delete(key);
  return true;
}

function rememberDecoded(memo: UsageTrackedMemo<OcspResponseFacts>, key: string, der: Uint8Array, decoded: DecodedOcspResponse): void {
  try {
    memo.set(key, toOcspResponseFacts(der, decoded));
  } catch {
    // A field asn1js handed out as a copy rather than a view cannot be located: just not remembered.
  }
}

/** OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }. Throws DerError. */
function decodeOcspResponseDer(der: Uint8Array): DecodedOcspResponse {
  const [status, responseBytes, ...extra] = expectSequence(decodeComplete(der, 'OCSPResponse'), 'OCSPResponse');
  if (!(status instanceof asn1js.Enumerated) || extra.length > 0) throw new DerError('OCSPResponse has an unexpected layout');
  const responseStatus = RESPONSE_STATUS_NAMES[status.valueBlock.valueDec];
  if (responseStatus === undefined) throw new DerError(`unknown responseStatus ${status.valueBlock.valueDec}`);
  if (responseBytes === undefined) {
    // RFC 6960 4.2.1: error statuses carry no responseBytes; success must.
    if (responseStatus === 'successful') throw new DerError('successful response without responseBytes');
    return { responseStatus };
  }
  if (!isContextTag(responseBytes, 0)) throw new DerError('responseBytes is not [0]');
  const [type, response] = expectSequence(unwrapExplicit(responseBytes, 'responseBytes'), 'ResponseBytes');
  const responseType = expectOid(type, 'responseType');
  const body = expectOctetString(response, 'response');
  if (responseType !== OID.ocspBasic) return { responseStatus, responseType };
  return { responseStatus, responseType, basic: decodeBasicResponse(body) };
}

/** BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT ... OPTIONAL }. */
function decodeBasicResponse(der: Uint8Array): DecodedBasicResponse {
  const [tbs, algorithm, signature, certs, ...extra] = expectSequence(decodeComplete(der, 'BasicOCSPResponse'), 'BasicOCSPResponse');
  if (extra.length > 0 || (certs !== undefined && !isContextTag(certs, 0))) throw new DerError('BasicOCSPResponse has an unexpected layout');
  expectSequence(algorithm, 'signatureAlgorithm');
  return {
    ...decodeResponseData(tbs),
    tbsDer: readEncoding(tbs!),
    signatureAlgorithmDer: readEncoding(algorithm!),
    signature: expectBitString(signature, 'signature'),
    certs: certs ? expectSequence(unwrapExplicit(certs, 'certs'), 'certs').map((cert) => readEncoding(cert)) : [],
  };
}

/**
 * ResponseData ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, responderID, producedAt GeneralizedTime,
 * responses SEQUENCE OF SingleResponse, responseExtensions [1] EXPLICIT Extensions OPTIONAL }.
 */
function decodeResponseData(tbs: asn1js.AsnType | undefined): Omit<DecodedBasicResponse, 'tbsDer' | 'signatureAlgorithmDer' | 'signature' | 'certs'> {
  const fields = expectSequence(tbs, 'tbsResponseData');
  const offset = isContextTag(fields[0], 0) ? 1 : 0;
  const [responderId, producedAt, responses, extensions, ...extra] = fields.slice(offset);
  if (extra.length > 0 || (extensions !== undefined && !isContextTag(extensions, 1))) throw new DerError('ResponseData has an unexpected layout');
  const singles = expectSequence(responses, 'responses').map(decodeSingleResponse);
  const nonceExtension = extensions ? findExtension(unwrapExplicit(extensions, 'responseExtensions'), OID.ocspNonce) : undefined;
  return {
    responderId: decodeResponderId(responderId),
    producedAt: expectGeneralizedTime(producedAt, 'producedAt'),
    singles,
    ...(nonceExtension ? { nonceExtension } : {}),
  };
}

/** ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash } (RFC 6960 4.2.1; EXPLICIT, the module's default). */
function decodeResponderId(block: asn1js.AsnType | undefined): ResponderId {
  if (isContextTag(block, 1)) {
    const name = unwrapExplicit(block, 'responderID byName');
    expectSequence(name, 'responderID Name');
    return { kind: 'name', nameDer: readEncoding(name) };
  }
  if (isContextTag(block, 2)) return { kind: 'key', keyHash: expectOctetString(unwrapExplicit(block, 'responderID byKey'), 'KeyHash') };
  throw new DerError('responderID is neither byName nor byKey');
}

/**
 * SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 * nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, singleExtensions [1] EXPLICIT Extensions OPTIONAL }.
 */
function decodeSingleResponse(block: asn1js.AsnType): DecodedSingleResponse {
  const [certId, status, thisUpdate, ...optional] = expectSequence(block, 'SingleResponse');
  const [hashAlgorithm, issuerNameHash, issuerKeyHash, serial] = expectSequence(certId, 'CertID');
  const nextUpdate = optional.find((field) => isContextTag(field, 0));
  return {
    hashAlgorithm: expectOid(expectSequence(hashAlgorithm, 'hashAlgorithm')[0], 'hashAlgorithm'),
    issuerNameHash: expectOctetString(issuerNameHash, 'issuerNameHash'),
    issuerKeyHash: expectOctetString(issuerKeyHash, 'issuerKeyHash'),
    serialHex: serialToHex(expectInteger(serial, 'serialNumber')),
    ...decodeCertStatus(status),
    thisUpdate: expectGeneralizedTime(thisUpdate, 'thisUpdate'),
    ...(nextUpdate ? { nextUpdate: expectGeneralizedTime(unwrapExplicit(nextUpdate, 'nextUpdate'), 'nextUpdate') } : {}),
  };
}

/** CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }. */
function decodeCertStatus(block: asn1js.AsnType | undefined): Pick<DecodedSingleResponse, 'certStatus' | 'revocationTime' | 'revocationReason'> {
  if (isContextTag(block, 0)) return { certStatus: 'good' };
  if (isContextTag(block, 2)) return { certStatus: 'unknown' };
  if (!isContextTag(block, 1)) throw new DerError('certStatus is not good, revoked or unknown');
  // RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }.
  const [time, reason] = readChildren(block, 'revoked');
  const revocationTime = expectGeneralizedTime(time, 'revocationTime');
  if (!isContextTag(reason, 0)) return { certStatus: 'revoked', revocationTime };
  const code = unwrapExplicit(reason, 'revocationReason');
  if (!(code instanceof asn1js.Enumerated)) throw new DerError('revocationReason is not ENUMERATED');
  const revocationReason = CRL_REASON_NAMES[code.valueBlock.valueDec] ?? `reason ${code.valueBlock.valueDec}`;
  return { certStatus: 'revoked', revocationTime, revocationReason };
}

/** extnValue of the extension `oid` in an Extensions SEQUENCE. */
function findExtension(extensions: asn1js.AsnType, oid: string): Uint8Array | undefined {
  for (const extension of expectSequence(extensions, 'Extensions')) {
    const parts = expectSequence(extension, 'Extension');
    if (expectOid(parts[0], 'extnID') === oid) return expectOctetString(parts[parts.length - 1], 'extnValue');
  }
  return undefined;
}

/** The nonce octets inside a nonce extension's extnValue. */
export function readNonceValue(extnValue: Uint8Array): Uint8Array {
  try {
    // RFC 8954 2.1: extnValue holds Nonce ::= OCTET STRING.
    return expectOctetString(decodeComplete(extnValue, 'nonce'), 'nonce');
  } catch {
    // Some older responders put the raw octets directly in extnValue (the RFC 2560 ambiguity); keep them as they are.
    return extnValue;
  }
}
