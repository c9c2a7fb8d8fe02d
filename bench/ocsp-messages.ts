// Fixed-shape OCSP requests and pre-signed responses (RFC 6960 4.1.1, 4.2.1) built by hand: the responder must sign
// 10,000 answers at start-up and the floor must send staplerd's exact bytes, both without PKI libraries in the way.
import { sign, type KeyObject } from 'node:crypto';
import { contextTag, encodeGeneralizedTime, encodeTlv, readChild, readTlv, sliceContent, TAG } from './der.js';

/** The CertID fields that are the same for every leaf of the one bench issuer (SHA-1, RFC 5019 2.1.1). */
export interface IssuerHashes {
  /** SHA-1 of the issuer's subject Name DER. */
  readonly nameHash: Uint8Array;
  /** SHA-1 of the issuer's subjectPublicKey BIT STRING value. */
  readonly keyHash: Uint8Array;
}

export interface ResponseWindow {
  readonly producedAt: Date;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

// DER of AlgorithmIdentifiers and OIDs used below (sha1 with NULL parameters as OpenSSL and staplerd send it).
const SHA1_WITH_NULL = Buffer.from('300906052b0e03021a0500', 'hex');
// ecdsa-with-SHA256, no parameters (RFC 5758 3.2).
const ECDSA_WITH_SHA256 = Buffer.from('300a06082a8648ce3d040302', 'hex');
// id-pkix-ocsp-basic 1.3.6.1.5.5.7.48.1.1.
const OCSP_BASIC_OID = Buffer.from('06092b0601050507300101', 'hex');
// CertStatus good: [0] IMPLICIT NULL.
const CERT_STATUS_GOOD = Uint8Array.of(contextTag(0, false), 0x00);
// OCSPResponseStatus successful (0).
const STATUS_SUCCESSFUL = Uint8Array.of(TAG.enumerated, 0x01, 0x00);

/** CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber }. */
export function encodeCertId(issuer: IssuerHashes, serialContent: Uint8Array): Uint8Array {
  return encodeTlv(
    TAG.sequence,
    SHA1_WITH_NULL,
    encodeTlv(TAG.octetString, issuer.nameHash),
    encodeTlv(TAG.octetString, issuer.keyHash),
    encodeTlv(TAG.integer, serialContent),
  );
}

/** OCSPRequest { tbsRequest { requestList { Request { reqCert } } } }: no nonce, no signature, as staplerd sends by default. */
export function encodeOcspRequest(issuer: IssuerHashes, serialContent: Uint8Array): Uint8Array {
  const request = encodeTlv(TAG.sequence, encodeCertId(issuer, serialContent));
  return encodeTlv(TAG.sequence, encodeTlv(TAG.sequence, encodeTlv(TAG.sequence, request)));
}

/** RFC 6960 Appendix A.1 / RFC 5019 section 5 GET path: url-encoded standard base64, the form staplerd uses. */
export function encodeOcspGetPath(requestDer: Uint8Array): string {
  return encodeURIComponent(Buffer.from(requestDer).toString('base64'));
}

/**
 * The serial (INTEGER content octets, as hex) of the first CertID of an OCSPRequest; throws RangeError when the bytes
 * are not one. Walks OCSPRequest -> tbsRequest -> requestList -> Request -> reqCert -> serialNumber (RFC 6960 4.1.1),
 * skipping an optional [0] version and [1] requestorName in front of requestList.
 */
export function readRequestSerialHex(requestDer: Uint8Array): string {
  const outer = readTlv(requestDer, 0);
  const tbsRequest = readChild(requestDer, outer, 0, 'tbsRequest');
  let listIndex = 0;
  while (readChild(requestDer, tbsRequest, listIndex, 'requestList').tag !== TAG.sequence) listIndex += 1;
  const requestList = readChild(requestDer, tbsRequest, listIndex, 'requestList');
  const request = readChild(requestDer, requestList, 0, 'Request');
  const certId = readChild(requestDer, request, 0, 'reqCert');
  const serial = readChild(requestDer, certId, 3, 'serialNumber');
  if (serial.tag !== TAG.integer) throw new RangeError('DER: serialNumber is not an INTEGER');
  return Buffer.from(sliceContent(requestDer, serial)).toString('hex');
}

/**
 * A successful OCSPResponse for one serial, status good, signed by the issuer itself (responderID byKey, no certs:
 * RFC 6960 4.2.2.2 issuer-signed case) with ECDSA P-256 / SHA-256.
 */
export function signGoodResponse(issuer: IssuerHashes, issuerKey: KeyObject, serialContent: Uint8Array, window: ResponseWindow): Uint8Array {
  const single = encodeTlv(
    TAG.sequence,
    encodeCertId(issuer, serialContent),
    CERT_STATUS_GOOD,
    encodeGeneralizedTime(window.thisUpdate),
    encodeTlv(contextTag(0, true), encodeGeneralizedTime(window.nextUpdate)),
  );
  const responseData = encodeTlv(
    TAG.sequence,
    // ResponderID byKey [2] EXPLICIT KeyHash (OCTET STRING), RFC 6960 4.2.2.3.
    encodeTlv(contextTag(2, true), encodeTlv(TAG.octetString, issuer.keyHash)),
    encodeGeneralizedTime(window.producedAt),
    encodeTlv(TAG.sequence, single),
  );
  const signature = sign('sha256', responseData, { key: issuerKey, dsaEncoding: 'der' });
  const basic = encodeTlv(TAG.sequence, responseData, ECDSA_WITH_SHA256, encodeTlv(TAG.bitString, Uint8Array.of(0), signature));
  const responseBytes = encodeTlv(TAG.sequence, OCSP_BASIC_OID, encodeTlv(TAG.octetString, basic));
  return encodeTlv(TAG.sequence, STATUS_SUCCESSFUL, encodeTlv(contextTag(0, true), responseBytes));
}

/** OCSPResponse with only a status (RFC 6960 4.2.1): 6 = unauthorized, what responders answer for serials they do not know. */
export const UNAUTHORIZED_RESPONSE = Uint8Array.of(TAG.sequence, 0x03, TAG.enumerated, 0x01, 0x06);
