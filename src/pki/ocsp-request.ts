// Builds the DER OCSPRequest for one certificate (RFC 6960 4.1.1), shaped as RFC 5019 lightweight responders expect.
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import type { Certificate } from './certificate.js';
import { OID } from './oids.js';

export interface BuiltOcspRequest {
  der: Uint8Array;
  /** The nonce sent, to compare with the response's (RFC 8954). */
  nonce?: Uint8Array;
}

export interface OcspRequestOptions {
  nonce?: boolean;
  randomBytes?: (n: number) => Uint8Array;
}

/** RFC 8954 2.1: nonces are 1 to 32 octets; 32 gives the most protection against replay. */
const NONCE_LENGTH = 32;

/**
 * OCSPRequest { tbsRequest { requestList { Request { reqCert CertID } }, [2] requestExtensions? } } with no requestorName
 * and no signature. CertID uses SHA-1: RFC 5019 2.1.1 requires responders to support it and many support nothing else.
 */
export async function buildOcspRequest(cert: Certificate, issuer: Certificate, options: OcspRequestOptions = {}): Promise<BuiltOcspRequest> {
  const nonce = options.nonce ? (options.randomBytes ?? defaultRandomBytes)(NONCE_LENGTH) : undefined;
  const request = new asn1js.Sequence({ value: [encodeCertId(cert, issuer)] });
  const tbsFields: asn1js.AsnType[] = [new asn1js.Sequence({ value: [request] })];
  if (nonce) tbsFields.push(encodeNonceExtensions(nonce));
  const ocspRequest = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: tbsFields })] });
  const der = new Uint8Array(ocspRequest.toBER(false));
  return nonce ? { der, nonce } : { der };
}

/** CertID { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber } (RFC 6960 4.1.1). */
function encodeCertId(cert: Certificate, issuer: Certificate): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      // AlgorithmIdentifier with explicit NULL parameters, as OpenSSL and Go encode SHA-1.
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.sha1 }), new asn1js.Null()] }),
      new asn1js.OctetString({ valueHex: issuer.nameHash(OID.sha1) }),
      new asn1js.OctetString({ valueHex: issuer.keyHash(OID.sha1) }),
      // The serial's INTEGER contents exactly as the certificate encodes them.
      new asn1js.Integer({ valueHex: cert.serialNumber }),
    ],
  });
}

/** requestExtensions [2] EXPLICIT Extensions with id-pkix-ocsp-nonce; extnValue wraps Nonce ::= OCTET STRING (RFC 8954 2.1). */
function encodeNonceExtensions(nonce: Uint8Array): asn1js.Constructed {
  const nonceValue = new asn1js.OctetString({ valueHex: nonce }).toBER(false);
  const extension = new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: OID.ocspNonce }), new asn1js.OctetString({ valueHex: nonceValue })],
  });
  return new asn1js.Constructed({
    idBlock: { tagClass: 3, tagNumber: 2 },
    value: [new asn1js.Sequence({ value: [extension] })],
  });
}

function defaultRandomBytes(n: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(n));
}
