// Reads the raw TBSCertificate fields and the extensions staplerd needs (RFC 5280 4.1, 4.2) from a decoded certificate.
import * as asn1js from 'asn1js';
import { OID } from './oids.js';
import {
  DerError, readChildren, decodeComplete, expectBitString, expectOctetString, expectOid, expectSequence, unwrapExplicit,
  isContextTag, readPrimitiveContents, TAG_CLASS, readEncoding, toHex, expectInteger, expectTime,
} from './der.js';

export interface RawCertificateFields {
  /** The whole Certificate encoding as asn1js decoded it: the views below lie inside it. */
  readonly encoding: Uint8Array;
  readonly tbsDer: Uint8Array;
  readonly serial: Uint8Array;
  readonly issuerName: asn1js.AsnType;
  readonly subjectName: asn1js.AsnType;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The whole SubjectPublicKeyInfo encoding: what node:crypto imports the key from. */
  readonly subjectPublicKeyInfoDer: Uint8Array;
  /** subjectPublicKey BIT STRING value: the RFC 6960 issuerKeyHash / KeyHash input. */
  readonly publicKeyBits: Uint8Array;
  readonly signatureAlgorithmDer: Uint8Array;
  readonly signature: Uint8Array;
  readonly extensions: ReadonlyMap<string, Uint8Array>;
}

export interface ExtensionFacts {
  readonly isCA: boolean;
  readonly ocspUrls: string[];
  readonly caIssuersUrls: string[];
  readonly mustStaple: boolean;
  readonly extendedKeyUsages: string[];
}

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 4.1), read off the
 * asn1js tree with the shape pkijs's Certificate schema demands (so the same inputs are refused without building a
 * pkijs.Certificate): TBSCertificate ::= SEQUENCE { version [0] EXPLICIT OPTIONAL, serialNumber, signature
 * AlgorithmIdentifier, issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, subject Name,
 * subjectPublicKeyInfo SEQUENCE { algorithm, subjectPublicKey BIT STRING }, issuerUniqueID [1] OPTIONAL,
 * subjectUniqueID [2] OPTIONAL, extensions [3] EXPLICIT OPTIONAL }.
 */
export function readCertificateFields(certificate: asn1js.AsnType): RawCertificateFields {
  const [tbs, signatureAlgorithm, signatureValue, ...extra] = expectSequence(certificate, 'Certificate');
  if (!signatureAlgorithm || extra.length > 0) throw new DerError('Certificate must have exactly three fields');
  expectSequence(signatureAlgorithm, 'signatureAlgorithm');
  const fields = expectSequence(tbs, 'tbsCertificate');
  // version [0] EXPLICIT is omitted for v1 certificates.
  const offset = isContextTag(fields[0], 0) ? 1 : 0;
  if (offset === 1) expectInteger(unwrapExplicit(fields[0]!, 'version'), 'version');
  const [serial, algorithm, issuer, validity, subject, spki, ...trailing] = fields.slice(offset);
  if (!issuer || !subject || !spki) throw new DerError('tbsCertificate is missing fields');
  expectInteger(serial, 'serialNumber');
  expectSequence(algorithm, 'signature AlgorithmIdentifier');
  expectSequence(issuer, 'issuer Name');
  expectSequence(subject, 'subject Name');
  const [notBefore, notAfter, ...extraTimes] = expectSequence(validity, 'validity');
  if (extraTimes.length > 0) throw new DerError('validity must have exactly two fields');
  const [keyAlgorithm, publicKey, ...extraKey] = expectSequence(spki, 'subjectPublicKeyInfo');
  if (extraKey.length > 0) throw new DerError('subjectPublicKeyInfo must have exactly two fields');
  expectSequence(keyAlgorithm, 'subjectPublicKeyInfo algorithm');
  return {
    encoding: readEncoding(certificate),
    tbsDer: readEncoding(tbs!),
    serial: readPrimitiveContents(serial, 'serialNumber'),
    issuerName: issuer,
    subjectName: subject,
    notBefore: expectTime(notBefore, 'notBefore'),
    notAfter: expectTime(notAfter, 'notAfter'),
    subjectPublicKeyInfoDer: readEncoding(spki),
    publicKeyBits: expectBitString(publicKey, 'subjectPublicKey'),
    signatureAlgorithmDer: readEncoding(signatureAlgorithm),
    signature: expectBitString(signatureValue, 'signatureValue'),
    extensions: readExtensions(trailing),
  };
}

/** extensions [3] EXPLICIT SEQUENCE OF Extension, after the optional unique identifiers [1] and [2], in that order. */
function readExtensions(trailing: asn1js.AsnType[]): Map<string, Uint8Array> {
  const extensions = new Map<string, Uint8Array>();
  let next = 1;
  let wrapper: asn1js.AsnType | undefined;
  for (const block of trailing) {
    const tag = block.idBlock.tagClass === TAG_CLASS.context ? block.idBlock.tagNumber : 0;
    if (tag < next || tag > 3) throw new DerError('tbsCertificate has unexpected trailing fields');
    next = tag + 1;
    if (tag === 3) wrapper = block;
  }
  if (!wrapper) return extensions;
  for (const extension of expectSequence(unwrapExplicit(wrapper, 'extensions'), 'Extensions')) {
    const parts = expectSequence(extension, 'Extension');
    const oid = expectOid(parts[0], 'extnID');
    extensions.set(oid, expectOctetString(parts[parts.length - 1], `extnValue of ${oid}`));
  }
  return extensions;
}

/** Reads basicConstraints, AIA, TLS Feature and EKU. A malformed extension of these is a parse error. */
export function readExtensionFacts(extensions: ReadonlyMap<string, Uint8Array>): ExtensionFacts {
  const aia = readAuthorityInfoAccess(extensions.get(OID.authorityInfoAccess));
  return {
    isCA: readIsCA(extensions.get(OID.basicConstraints)),
    ocspUrls: aia.filter((entry) => entry.method === OID.accessOcsp).map((entry) => entry.url),
    caIssuersUrls: aia.filter((entry) => entry.method === OID.accessCaIssuers).map((entry) => entry.url),
    mustStaple: readMustStaple(extensions.get(OID.tlsFeature)),
    extendedKeyUsages: readExtendedKeyUsages(extensions.get(OID.extKeyUsage)),
  };
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } (RFC 5280 4.2.1.9). */
function readIsCA(value: Uint8Array | undefined): boolean {
  if (!value) return false;
  const [first] = expectSequence(decodeComplete(value, 'basicConstraints'), 'basicConstraints');
  return first instanceof asn1js.Boolean && first.valueBlock.value;
}

/** AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription; only URI locations [6] matter (RFC 5280 4.2.2.1). */
function readAuthorityInfoAccess(value: Uint8Array | undefined): { method: string; url: string }[] {
  if (!value) return [];
  const entries: { method: string; url: string }[] = [];
  for (const description of expectSequence(decodeComplete(value, 'authorityInfoAccess'), 'authorityInfoAccess')) {
    const [method, location] = expectSequence(description, 'AccessDescription');
    const oid = expectOid(method, 'accessMethod');
    if (!isContextTag(location, 6)) continue;
    const url = readPrimitiveContents(location, 'accessLocation');
    entries.push({ method: oid, url: Buffer.from(url.buffer, url.byteOffset, url.byteLength).toString('latin1') });
  }
  return entries;
}

/** RFC 7633 4.2: Features ::= SEQUENCE OF INTEGER; 5 is status_request, i.e. "must staple". */
function readMustStaple(value: Uint8Array | undefined): boolean {
  if (!value) return false;
  return expectSequence(decodeComplete(value, 'tlsFeature'), 'tlsFeature').some(
    (feature) => feature instanceof asn1js.Integer && feature.valueBlock.valueDec === 5,
  );
}

/** ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId (RFC 5280 4.2.1.12). */
function readExtendedKeyUsages(value: Uint8Array | undefined): string[] {
  if (!value) return [];
  return expectSequence(decodeComplete(value, 'extKeyUsage'), 'extKeyUsage').map((purpose) => expectOid(purpose, 'KeyPurposeId'));
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.4': 'SN', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST',
  '2.5.4.9': 'street', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.12': 'title', '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode', '2.5.4.42': 'GN', '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST', '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
  '2.5.4.97': 'organizationIdentifier', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** RFC 4514 string form, most specific RDN first ("CN=example.com, O=Example"). */
export function formatName(name: asn1js.AsnType): string {
  const rdns = expectSequence(name, 'Name').map((rdn) =>
    readChildren(rdn, 'RelativeDistinguishedName').map((attribute) => formatAttribute(attribute)).join('+'),
  );
  return rdns.reverse().join(', ');
}

function formatAttribute(attribute: asn1js.AsnType): string {
  const [type, value] = expectSequence(attribute, 'AttributeTypeAndValue');
  const oid = expectOid(type, 'attribute type');
  if (!value) throw new DerError('AttributeTypeAndValue has no value');
  return `${SHORT_NAMES[oid] ?? oid}=${formatAttributeValue(value)}`;
}

/** Strings print escaped (RFC 4514 2.4); anything else as "#" and the hex of its DER. */
function formatAttributeValue(value: asn1js.AsnType): string {
  const text = (value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
  if (typeof text !== 'string' || value.idBlock.tagClass !== TAG_CLASS.universal) return `#${toHex(readEncoding(value))}`;
  return text
    .replace(/[\\,+"<>;]/g, (character) => `\\${character}`)
    .replace(/^[ #]/, (character) => `\\${character}`)
    .replace(/ $/, '\\ ');
}
