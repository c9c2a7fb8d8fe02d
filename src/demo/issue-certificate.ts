// Issues X.509 v3 certificates for the throwaway demo/test CA: roots, intermediates, leaves and OCSP responders.
import { createHash, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import { pkijs } from '../pki/crypto-engine.js';
import { Certificate } from '../pki/certificate.js';
import { exportPublicKeyDer, signatureAlgorithmFor, signBytes, type KeyPair, type SignatureAlgorithm } from './key-pair.js';
import { OID } from '../pki/oids.js';

export interface IssueOptions {
  subject: { commonName: string; organization?: string };
  /** The subject's keys. */
  keys: KeyPair;
  /** Absent: self-signed. */
  issuer?: { certificate: Certificate; keys: KeyPair };
  /** Default: 16 random bytes, positive. */
  serialHex?: string;
  /** Default: now - 1 h .. now + 90 d. */
  notBefore?: Date;
  notAfter?: Date;
  /** basicConstraints cA, keyUsage keyCertSign|cRLSign. */
  isCA?: boolean;
  ocspUrls?: string[];
  caIssuersUrls?: string[];
  /** TLS Feature status_request (RFC 7633). */
  mustStaple?: boolean;
  /** EKU id-kp-OCSPSigning plus id-pkix-ocsp-nocheck, for delegated responders (RFC 6960 4.2.2.2, 4.2.2.2.1). */
  ocspSigning?: boolean;
  /** SAN dNSNames; leaves (neither CA nor responder) default to [commonName] and get EKU serverAuth. */
  dnsNames?: string[];
  /** SAN iPAddresses, IPv4 dotted quads (RFC 5280 4.2.1.6: four octets). */
  ipAddresses?: string[];
}

const HOUR_MS = 60 * 60 * 1000;
const DEFAULT_LIFETIME_MS = 90 * 24 * HOUR_MS;
// RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 on.
const UTC_TIME_LIMIT = Date.UTC(2050, 0, 1);
// RFC 7633 / RFC 6066: TLS extension number of status_request.
const TLS_FEATURE_STATUS_REQUEST = 5;
const OID_COMMON_NAME = '2.5.4.3';
const OID_ORGANIZATION = '2.5.4.10';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';

// RFC 5280 4.2.1.3 KeyUsage bits, numbered from the most significant bit of the first byte.
const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;
type KeyUsageName = keyof typeof KEY_USAGE;

/** Issues and signs (SHA-256) a certificate; returns it parsed, as the rest of staplerd would read it from disk. */
export async function issueCertificate(options: IssueOptions): Promise<Certificate> {
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - HOUR_MS);
  const notAfter = options.notAfter ?? new Date(now + DEFAULT_LIFETIME_MS);
  const spki = await exportPublicKeyDer(options.keys);
  const issuerCertificate = options.issuer ? pkijs.Certificate.fromBER(options.issuer.certificate.der) : undefined;
  const signerKeys = options.issuer?.keys ?? options.keys;
  const subject = buildName(options.subject);
  const algorithmIdentifier = buildAlgorithmIdentifier(signatureAlgorithmFor(signerKeys, 'SHA-256'));

  const certificate = new pkijs.Certificate({
    version: 2, // v3 (RFC 5280 4.1.2.1): extensions require it.
    serialNumber: new asn1js.Integer({ valueHex: toArrayBuffer(encodeSerialHex(options.serialHex ?? randomSerialHex())) }),
    signature: algorithmIdentifier,
    issuer: issuerCertificate ? issuerCertificate.subject : subject,
    notBefore: buildTime(notBefore),
    notAfter: buildTime(notAfter),
    subject,
    subjectPublicKeyInfo: pkijs.PublicKeyInfo.fromBER(spki),
    extensions: buildExtensions(options, spki, issuerCertificate),
  });
  certificate.signatureAlgorithm = algorithmIdentifier;
  certificate.tbsView = new Uint8Array(certificate.encodeTBS().toBER());
  certificate.signatureValue = new asn1js.BitString({ valueHex: toArrayBuffer(signBytes(signerKeys, certificate.tbsView, 'SHA-256')) });
  return Certificate.fromDer(new Uint8Array(certificate.toSchema().toBER()));
}

/** Random 16 bytes as a positive, minimally encoded INTEGER (RFC 5280 4.1.2.2: at most 20 octets, positive). */
export function randomSerialHex(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0] & 0x7f || 0x01;
  return Buffer.from(bytes).toString('hex');
}

/** The signature AlgorithmIdentifier as certificates and OCSP responses carry it. */
export function buildAlgorithmIdentifier(algorithm: SignatureAlgorithm): pkijs.AlgorithmIdentifier {
  return new pkijs.AlgorithmIdentifier({
    algorithmId: algorithm.oid,
    ...(algorithm.nullParameters ? { algorithmParams: new asn1js.Null() } : {}),
  });
}

/** The INTEGER content octets for a serial given in hex: minimal, with a 00 prefix when the top bit is set. */
export function encodeSerialHex(serialHex: string): Uint8Array {
  const hex = serialHex.toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) throw new TypeError(`serialHex is not hexadecimal: ${serialHex}`);
  const stripped = hex.replace(/^0+/, '');
  const even = stripped.length % 2 === 1 ? `0${stripped}` : stripped;
  const bytes = Buffer.from(even, 'hex');
  if (bytes.length === 0) return new Uint8Array([0]);
  return bytes[0] >= 0x80 ? new Uint8Array([0, ...bytes]) : new Uint8Array(bytes);
}

/** One attribute per RDN (pkijs would put them all in one multi-valued RDN, "O=x + CN=y"). */
function buildName(subject: IssueOptions['subject']): pkijs.RelativeDistinguishedNames {
  const attribute = (type: string, value: string) => new asn1js.Set({
    value: [new pkijs.AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value }) }).toSchema()],
  });
  const rdns = [
    ...(subject.organization ? [attribute(OID_ORGANIZATION, subject.organization)] : []),
    attribute(OID_COMMON_NAME, subject.commonName),
  ];
  return pkijs.RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: rdns }).toBER());
}

function buildTime(at: Date): pkijs.Time {
  return new pkijs.Time({ type: at.getTime() < UTC_TIME_LIMIT ? 0 : 1, value: truncateToSeconds(at) });
}

function buildExtensions(options: IssueOptions, spki: Uint8Array, issuer: pkijs.Certificate | undefined): pkijs.Extension[] {
  const isLeaf = !options.isCA && !options.ocspSigning;
  const subjectKeyId = hashSubjectPublicKey(pkijs.PublicKeyInfo.fromBER(spki));
  const authorityKeyId = issuer ? readSubjectKeyId(issuer) : subjectKeyId;
  const extensions = [
    buildExtension(OID.basicConstraints, true, new asn1js.Sequence({ value: options.isCA ? [new asn1js.Boolean({ value: true })] : [] })),
    buildExtension(OID.keyUsage, true, buildKeyUsage(keyUsagesFor(options))),
    buildExtension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: toArrayBuffer(subjectKeyId) })),
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT KeyIdentifier OPTIONAL, ... } (RFC 5280 4.2.1.1).
    buildExtension(OID.authorityKeyIdentifier, false, new asn1js.Sequence({
      value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: toArrayBuffer(authorityKeyId) })],
    })),
  ];
  const extendedKeyUsages = [...(isLeaf ? [OID.serverAuth] : []), ...(options.ocspSigning ? [OID.ocspSigning] : [])];
  if (extendedKeyUsages.length > 0) {
    extensions.push(buildExtension(OID.extKeyUsage, false, new asn1js.Sequence({
      value: extendedKeyUsages.map((oid) => new asn1js.ObjectIdentifier({ value: oid })),
    })));
  }
  // RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck tells clients not to check the responder certificate's own status.
  if (options.ocspSigning) extensions.push(buildExtension(OID.ocspNoCheck, false, new asn1js.Null()));
  const dnsNames = options.dnsNames ?? (isLeaf ? [options.subject.commonName] : []);
  const ipAddresses = options.ipAddresses ?? [];
  if (dnsNames.length + ipAddresses.length > 0) extensions.push(buildExtension(OID_SUBJECT_ALT_NAME, false, buildSubjectAltName(dnsNames, ipAddresses)));
  const infoAccess = buildInfoAccess(options.ocspUrls ?? [], options.caIssuersUrls ?? []);
  if (infoAccess) extensions.push(buildExtension(OID.authorityInfoAccess, false, infoAccess));
  if (options.mustStaple) {
    // RFC 7633 section 4: Features ::= SEQUENCE OF INTEGER.
    extensions.push(buildExtension(OID.tlsFeature, false, new asn1js.Sequence({ value: [new asn1js.Integer({ value: TLS_FEATURE_STATUS_REQUEST })] })));
  }
  return extensions;
}

function buildExtension(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER() });
}

function keyUsagesFor(options: IssueOptions): KeyUsageName[] {
  // CAs keep digitalSignature so they can sign OCSP responses themselves (RFC 6960 4.2.2.2, issuer-signed case).
  if (options.isCA) return ['digitalSignature', 'keyCertSign', 'cRLSign'];
  // RSA TLS servers may still be asked for RSA key exchange (TLS 1.2), which is keyEncipherment.
  if (!options.ocspSigning && options.keys.algorithm === 'rsa-2048') return ['digitalSignature', 'keyEncipherment'];
  return ['digitalSignature'];
}

/** A DER BIT STRING of named bits: trailing zero bits are dropped and counted as unused (X.690 11.2.2). */
function buildKeyUsage(usages: KeyUsageName[]): asn1js.BitString {
  const byte = usages.reduce((bits, usage) => bits | (0x80 >> KEY_USAGE[usage]), 0);
  let unusedBits = 0;
  while (unusedBits < 7 && (byte & (1 << unusedBits)) === 0) unusedBits += 1;
  return new asn1js.BitString({ valueHex: new Uint8Array([byte]).buffer, unusedBits });
}

function buildSubjectAltName(dnsNames: string[], ipAddresses: string[]): asn1js.Sequence {
  // GeneralName dNSName is [2] IMPLICIT IA5String, iPAddress [7] IMPLICIT OCTET STRING (RFC 5280 4.2.1.6).
  return new asn1js.Sequence({
    value: [
      ...dnsNames.map((name) => new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 }, valueHex: toArrayBuffer(Buffer.from(name, 'ascii')) })),
      ...ipAddresses.map((address) => new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 7 }, valueHex: toArrayBuffer(encodeIpv4(address)) })),
    ],
  });
}

function encodeIpv4(address: string): Uint8Array {
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) {
    throw new TypeError(`ipAddresses takes IPv4 dotted quads: ${address}`);
  }
  return new Uint8Array(octets);
}

function buildInfoAccess(ocspUrls: string[], caIssuersUrls: string[]): asn1js.Sequence | undefined {
  // AccessDescription ::= SEQUENCE { accessMethod OID, accessLocation GeneralName }; URI is [6] IMPLICIT IA5String.
  const describe = (method: string, url: string) => new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: method }),
      new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 6 }, valueHex: toArrayBuffer(Buffer.from(url, 'ascii')) }),
    ],
  });
  const descriptions = [
    ...ocspUrls.map((url) => describe(OID.accessOcsp, url)),
    ...caIssuersUrls.map((url) => describe(OID.accessCaIssuers, url)),
  ];
  return descriptions.length > 0 ? new asn1js.Sequence({ value: descriptions }) : undefined;
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
function hashSubjectPublicKey(publicKeyInfo: pkijs.PublicKeyInfo): Uint8Array {
  return createHash('sha1').update(publicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
}

/** The issuer's own subjectKeyIdentifier, which the child's authorityKeyIdentifier must repeat (RFC 5280 4.2.1.1). */
function readSubjectKeyId(issuer: pkijs.Certificate): Uint8Array {
  const extension = issuer.extensions?.find((candidate) => candidate.extnID === OID.subjectKeyIdentifier);
  if (!extension) return hashSubjectPublicKey(issuer.subjectPublicKeyInfo);
  const parsed = asn1js.fromBER(extension.extnValue.valueBlock.valueHexView);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.OctetString)) return hashSubjectPublicKey(issuer.subjectPublicKeyInfo);
  return parsed.result.valueBlock.valueHexView;
}

function truncateToSeconds(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 1000) * 1000);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
