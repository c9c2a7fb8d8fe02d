// The responder side of RFC 6960 for the demo and tests: parses OCSP requests and signs BasicOCSPResponses.
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { pkijs } from '../pki/crypto-engine.js';
import type { Certificate } from '../pki/certificate.js';
import { buildAlgorithmIdentifier, encodeSerialHex } from './issue-certificate.js';
import { signatureAlgorithmFor, signBytes, type KeyPair, type SignatureHash } from './key-pair.js';
import { OID } from '../pki/oids.js';
import { StaplerdError } from '../errors/index.js';

/** One CertID from a request (RFC 6960 4.1.1), with the serial as CertificateSummary.serialHex spells it. */
export interface RequestedCertId {
  serialHex: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  hashAlgorithmOid: string;
}

export interface ParsedOcspRequest {
  certIds: RequestedCertId[];
  /** The nonce octets (the inner OCTET STRING of the id-pkix-ocsp-nonce extension, RFC 8954). */
  nonce?: Uint8Array;
}

export interface SingleAnswer {
  certId: RequestedCertId | { cert: Certificate; issuer: Certificate; hash?: 'SHA-1' | 'SHA-256' };
  status: 'good' | 'revoked' | 'unknown';
  revocationTime?: Date;
  /** CRLReason number (RFC 5280 5.3.1). */
  revocationReason?: number;
  thisUpdate: Date;
  /** null or undefined: the field is omitted ("newer information is always available", RFC 6960 4.2.2.1). */
  nextUpdate?: Date | null;
}

export interface SignOptions {
  /** The issuing CA itself, or a delegated responder it certified. */
  signer: { certificate: Certificate; keys: KeyPair };
  /** Default: none when the signer is the issuer of every answer, else [signer.certificate] (RFC 6960 4.2.2.2). */
  includeCertificates?: Certificate[];
  /** Default 'key' (RFC 5019 section 2.2.3 recommends byKey). */
  responderIdBy?: 'name' | 'key';
  producedAt: Date;
  answers: SingleAnswer[];
  /** Echoed as the id-pkix-ocsp-nonce response extension. */
  nonce?: Uint8Array;
  /** Default 'SHA-256'. */
  signatureHash?: SignatureHash;
}

export type OcspErrorStatus = 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';

// RFC 6960 4.2.1 OCSPResponseStatus (4 is not used).
const RESPONSE_STATUS_NUMBER: Record<OcspErrorStatus, number> = {
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
};

const HASH_OIDS: Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/** Whether a requested CertID names this issuer: hashes of its subject Name and of its key bits (RFC 6960 4.1.1). */
export function isCertIdIssuedBy(certId: RequestedCertId, issuer: Certificate): boolean {
  const algorithm = HASH_OIDS[certId.hashAlgorithmOid];
  if (!algorithm) return false;
  const parsed = pkijs.Certificate.fromBER(issuer.der);
  const nameHash = createHash(algorithm).update(new Uint8Array(parsed.subject.toSchema().toBER())).digest();
  return nameHash.equals(certId.issuerNameHash) && Buffer.from(hashKey(parsed, algorithm)).equals(certId.issuerKeyHash);
}

/** Reads the CertIDs and nonce of a DER OCSPRequest; throws RESPONSE_MALFORMED_REQUEST on anything else. */
export function parseOcspRequest(der: Uint8Array): ParsedOcspRequest {
  const request = decodeOcspRequest(der);
  const certIds = request.tbsRequest.requestList.map((single) => toRequestedCertId(single.reqCert));
  if (certIds.length === 0) throw new StaplerdError('RESPONSE_MALFORMED_REQUEST', 'OCSP request lists no certificates');
  const nonceExtension = request.tbsRequest.requestExtensions?.find((extension) => extension.extnID === OID.ocspNonce);
  if (!nonceExtension) return { certIds };
  return { certIds, nonce: decodeNonce(nonceExtension.extnValue.valueBlock.valueHexView) };
}

/** Signs a successful id-pkix-ocsp-basic response and wraps it in an OCSPResponse (RFC 6960 4.2.1). */
export async function signOcspResponse(options: SignOptions): Promise<Uint8Array> {
  const signerCertificate = pkijs.Certificate.fromBER(options.signer.certificate.der);
  const responses = await Promise.all(options.answers.map((answer) => buildSingleResponse(answer)));
  const responseData = new pkijs.ResponseData({
    responderID: buildResponderId(signerCertificate, options.responderIdBy ?? 'key'),
    producedAt: truncateToSeconds(options.producedAt),
    responses,
    ...(options.nonce ? { responseExtensions: [buildNonceExtension(options.nonce)] } : {}),
  });
  const hash = options.signatureHash ?? 'SHA-256';
  const tbs = new Uint8Array(responseData.toSchema(true).toBER());
  responseData.tbsView = tbs;
  const certificates = options.includeCertificates ?? defaultIncludedCertificates(options.signer.certificate, signerCertificate, responses);
  const basic = new pkijs.BasicOCSPResponse({
    tbsResponseData: responseData,
    signatureAlgorithm: buildAlgorithmIdentifier(signatureAlgorithmFor(options.signer.keys, hash)),
    signature: new asn1js.BitString({ valueHex: toArrayBuffer(signBytes(options.signer.keys, tbs, hash)) }),
    ...(certificates.length > 0 ? { certs: certificates.map((certificate) => pkijs.Certificate.fromBER(certificate.der)) } : {}),
  });
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: OID.ocspBasic,
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER() }),
    }),
  });
  return new Uint8Array(response.toSchema().toBER());
}

/** An unsuccessful OCSPResponse: just the status, no responseBytes (RFC 6960 4.2.1). */
export function encodeOcspErrorResponse(status: OcspErrorStatus): Uint8Array {
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED }: pkijs's OCSPResponse without responseBytes.
  const response = new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: RESPONSE_STATUS_NUMBER[status] }) });
  return new Uint8Array(response.toSchema().toBER());
}

function decodeOcspRequest(der: Uint8Array): pkijs.OCSPRequest {
  const decoded = asn1js.fromBER(der);
  if (decoded.offset === -1 || decoded.offset !== der.byteLength) {
    throw new StaplerdError('RESPONSE_MALFORMED_REQUEST', 'OCSP request is not one complete DER value');
  }
  try {
    return new pkijs.OCSPRequest({ schema: decoded.result });
  } catch (error) {
    throw new StaplerdError('RESPONSE_MALFORMED_REQUEST', `OCSP request does not match RFC 6960 4.1.1: ${String(error)}`, {}, { cause: error });
  }
}

function toRequestedCertId(certId: pkijs.CertID): RequestedCertId {
  return {
    serialHex: formatSerialHex(certId.serialNumber.valueBlock.valueHexView),
    issuerNameHash: new Uint8Array(certId.issuerNameHash.valueBlock.valueHexView),
    issuerKeyHash: new Uint8Array(certId.issuerKeyHash.valueBlock.valueHexView),
    hashAlgorithmOid: certId.hashAlgorithm.algorithmId,
  };
}

/**
 * RFC 8954 section 2.1: the extension value is an OCTET STRING holding the nonce. Some old clients put the bare
 * nonce there; then the bare bytes are the nonce.
 */
function decodeNonce(extensionValue: Uint8Array): Uint8Array {
  const decoded = asn1js.fromBER(extensionValue);
  if (decoded.offset === extensionValue.byteLength && decoded.result instanceof asn1js.OctetString) {
    return new Uint8Array(decoded.result.valueBlock.valueHexView);
  }
  return new Uint8Array(extensionValue);
}

/** Same spelling as CertificateSummary.serialHex: lowercase, leading zero bytes stripped, "00" for zero. */
function formatSerialHex(integerContent: Uint8Array): string {
  let start = 0;
  while (start < integerContent.length - 1 && integerContent[start] === 0) start += 1;
  const hex = Buffer.from(integerContent.subarray(start)).toString('hex');
  return hex === '' ? '00' : hex;
}

function buildNonceExtension(nonce: Uint8Array): pkijs.Extension {
  return new pkijs.Extension({
    extnID: OID.ocspNonce,
    critical: false,
    extnValue: new asn1js.OctetString({ valueHex: toArrayBuffer(nonce) }).toBER(),
  });
}

async function buildSingleResponse(answer: SingleAnswer): Promise<pkijs.SingleResponse> {
  return new pkijs.SingleResponse({
    certID: await buildCertId(answer.certId),
    certStatus: buildCertStatus(answer),
    thisUpdate: truncateToSeconds(answer.thisUpdate),
    ...(answer.nextUpdate ? { nextUpdate: truncateToSeconds(answer.nextUpdate) } : {}),
  });
}

async function buildCertId(certId: SingleAnswer['certId']): Promise<pkijs.CertID> {
  if ('cert' in certId) {
    return pkijs.CertID.create(pkijs.Certificate.fromBER(certId.cert.der), {
      hashAlgorithm: certId.hash ?? 'SHA-1',
      issuerCertificate: pkijs.Certificate.fromBER(certId.issuer.der),
    });
  }
  return new pkijs.CertID({
    // RFC 5019 / common practice: hash AlgorithmIdentifiers in CertID carry NULL parameters, as OpenSSL sends them.
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: certId.hashAlgorithmOid, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: toArrayBuffer(certId.issuerNameHash) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: toArrayBuffer(certId.issuerKeyHash) }),
    serialNumber: new asn1js.Integer({ valueHex: toArrayBuffer(encodeSerialHex(certId.serialHex)) }),
  });
}

/**
 * CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL },
 * RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }.
 */
function buildCertStatus(answer: SingleAnswer): asn1js.BaseBlock {
  if (answer.status === 'good') return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
  if (answer.status === 'unknown') return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
  const revokedInfo: asn1js.BaseBlock[] = [
    new asn1js.GeneralizedTime({ valueDate: truncateToSeconds(answer.revocationTime ?? answer.thisUpdate) }),
  ];
  if (answer.revocationReason !== undefined) {
    revokedInfo.push(new asn1js.Constructed({
      idBlock: { tagClass: 3, tagNumber: 0 },
      value: [new asn1js.Enumerated({ value: answer.revocationReason })],
    }));
  }
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: revokedInfo });
}

/** ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash } with KeyHash the SHA-1 of the key bits (4.2.2.3). */
function buildResponderId(signer: pkijs.Certificate, by: 'name' | 'key'): pkijs.RelativeDistinguishedNames | asn1js.OctetString {
  if (by === 'name') return signer.subject;
  return new asn1js.OctetString({ valueHex: toArrayBuffer(hashKey(signer, 'sha1')) });
}

function hashKey(certificate: pkijs.Certificate, algorithm: string): Uint8Array {
  return createHash(algorithm).update(certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
}

/** Issuer-signed responses need no certificates; a delegated responder must send its own (RFC 6960 4.2.2.2). */
function defaultIncludedCertificates(signer: Certificate, parsedSigner: pkijs.Certificate, responses: pkijs.SingleResponse[]): Certificate[] {
  const signerIsIssuer = responses.every((response) => {
    const algorithm = HASH_OIDS[response.certID.hashAlgorithm.algorithmId];
    if (!algorithm) return false;
    return Buffer.from(hashKey(parsedSigner, algorithm)).equals(response.certID.issuerKeyHash.valueBlock.valueHexView);
  });
  return signerIsIssuer ? [] : [signer];
}

// GeneralizedTime in DER carries no fractional seconds here: RFC 5280 4.1.2.5.2 style, which every client accepts.
function truncateToSeconds(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 1000) * 1000);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
