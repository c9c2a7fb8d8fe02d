// Reads the raw TBSCertificate fields and the extensions staplerd needs (RFC 5280 4.1, 4.2) from a decoded certificate.
import * as asn1js from 'asn1js';
import { OID } from './oids.js';
import {
  DerError, readChildren, decodeComplete, expectBitString, expectOctetString, expectOid, expectSequence, unwrapExplicit,
  isContextTag, readPrimitiveContents, TAG_CLASS, readEncoding, toHex,
} from './der.js';

export interface RawCertificateFields {
  readonly tbsDer: Uint8Array;
  readonly serial: Uint8Array;
  readonly issuerName: asn1js.AsnType;
  readonly subjectName: asn1js.AsnType;
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

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 4.1). */
export function readCertificateFields(certificate: asn1js.AsnType): RawCertificateFields {
  const [tbs, signatureAlgorithm, signatureValue, ...extra] = expectSequence(certificate, 'Certificate');
  if (!signatureAlgorithm || extra.length > 0) throw new DerError('Certificate must have exactly three fields');
  const fields = expectSequence(tbs, 'tbsCertificate');
  // version [0] EXPLICIT is omitted for v1 certificates.
  const offset = isContextTag(fields[0], 0) ? 1 : 0;
  const [serial, , issuer, , subject, spki] = fields.slice(offset);
  if (!issuer || !subject || !spki) throw new DerError('tbsCertificate is missing fields');
  expectSequence(issuer, 'issuer Name');
  expectSequence(subject, 'subject Name');
  const [, publicKey] = expectSequence(spki, 'subjectPublicKeyInfo');
  return {
    tbsDer: readEncoding(tbs!),
    serial: readPrimitiveContents(serial, 'serialNumber'),
    issuerName: issuer,
    subjectName: subject,
    publicKeyBits: expectBitString(publicKey, 'subjectPublicKey'),
    signatureAlgorithmDer: readEncoding(signatureAlgorithm),
    signature: expectBitString(signatureValue, 'signatureValue'),
    extensions: readExtensions(fields.slice(offset + 6)),
  };
}

/** extensions [3] EXPLICIT SEQUENCE OF Extension, after the optional unique identifiers [1] and [2]. */
function readExtensions(trailing: asn1js.AsnType[]): Map<string, Uint8Array> {
  const extensions = new Map<string, Uint8Array>();
  const wrapper = trailing.find((block) => isContextTag(block, 3));
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
    entries.push({ method: oid, url: Buffer.from(readPrimitiveContents(location, 'accessLocation')).toString('latin1') });
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
  return `${SHORT_NAMES[oid] ?? oid}=${formatAttributeValue(value!)}`;
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
