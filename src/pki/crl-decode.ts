// Decodes a DER CertificateList (RFC 5280 5.1) without a decoded object per entry: the small fields through asn1js,
// revokedCertificates by walking offsets (der-walk.ts) straight into a packed RevokedSerials index.
import * as asn1js from 'asn1js';
import {
  DerError, decodeComplete, expectBitString, expectInteger, expectOctetString, expectOid, expectSequence, expectTime, isContextTag, readPrimitiveContents,
  serialToHex, unwrapExplicit,
} from './der.js';
import { expectTlv, readTlv, TAG, type Tlv } from './der-walk.js';
import { readGeneralNameKeys } from './crl-distribution-points.js';
import { RevokedSerialsBuilder, CRL_REASONS, type RevokedSerials } from './revoked-serials.js';
import { formatName } from './x509-fields.js';

/** RFC 5280 5.2 / 5.3 extension OIDs a CRL and its entries may carry. */
export const CRL_OID = {
  authorityKeyIdentifier: '2.5.29.35',
  issuerAltName: '2.5.29.18',
  crlNumber: '2.5.29.20',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

/** CRL extensions understood (or harmlessly ignored: AKI, issuerAltName, freshestCRL, AIA); any other critical one refuses the CRL. */
const KNOWN_CRL_EXTENSIONS = new Set<string>(Object.values(CRL_OID));

/** Entry extensions by their OID contents octets (2.5.29.21 reasonCode, .24 invalidityDate, .23 holdInstructionCode, .29 certificateIssuer). */
const ENTRY_REASON = '551d15';
const ENTRY_IGNORED = new Set(['551d18', '551d17']);
const ENTRY_CERTIFICATE_ISSUER = '551d1d';

/** IssuingDistributionPoint (RFC 5280 5.2.5), as facts. */
export interface IssuingDistributionPointFacts {
  /** Hex DER of each GeneralName of distributionPoint fullName; undefined when absent. */
  readonly fullNames?: readonly string[];
  readonly hasRelativeName: boolean;
  readonly onlyContainsUserCerts: boolean;
  readonly onlyContainsCACerts: boolean;
  readonly onlySomeReasons: boolean;
  readonly indirectCrl: boolean;
  readonly onlyContainsAttributeCerts: boolean;
}

export interface DecodedCrl {
  readonly tbsDer: Uint8Array;
  readonly signatureAlgorithmDer: Uint8Array;
  readonly signature: Uint8Array;
  readonly issuerNameDer: Uint8Array;
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** cRLNumber as hex without leading zeros (RFC 5280 5.2.3); undefined when absent. */
  readonly crlNumberHex?: string;
  readonly isDelta: boolean;
  readonly idp?: IssuingDistributionPointFacts;
  /** Critical extensions (of the CRL or an entry) staplerd does not process: the CRL must be refused (RFC 5280 5.2). */
  readonly unsupportedCritical: readonly string[];
  readonly revoked: RevokedSerials;
}

/**
 * CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }; TBSCertList ::=
 * SEQUENCE { version INTEGER OPTIONAL, signature, issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL,
 * revokedCertificates SEQUENCE OF SEQUENCE { userCertificate, revocationDate, crlEntryExtensions OPTIONAL } OPTIONAL,
 * crlExtensions [0] EXPLICIT Extensions OPTIONAL }. Throws DerError on anything else.
 */
export function decodeCrl(der: Uint8Array): DecodedCrl {
  const outer = expectTlv(der, 0, der.length, TAG.sequence, 'CertificateList');
  if (outer.end !== der.length) throw new DerError(`CertificateList has ${der.length - outer.end} trailing byte(s)`);
  const tbs = expectTlv(der, outer.contentStart, outer.end, TAG.sequence, 'tbsCertList');
  const algorithm = expectTlv(der, tbs.end, outer.end, TAG.sequence, 'signatureAlgorithm');
  const signatureTlv = expectTlv(der, algorithm.end, outer.end, TAG.bitString, 'signatureValue');
  if (signatureTlv.end !== outer.end) throw new DerError('CertificateList must have exactly three fields');
  const signatureAlgorithmDer = der.subarray(algorithm.start, algorithm.end);
  const signature = expectBitString(decodeComplete(der.subarray(signatureTlv.start, signatureTlv.end), 'signatureValue'), 'signatureValue');

  let offset = tbs.contentStart;
  let field = readTlv(der, offset, tbs.end, 'tbsCertList field');
  if (field.tag === TAG.integer) {
    const version = expectInteger(decodeComplete(der.subarray(field.start, field.end), 'version'), 'version');
    if (version.length !== 1 || version[0] !== 1) throw new DerError('CRL version must be v2 (1) when present');
    offset = field.end;
    field = readTlv(der, offset, tbs.end, 'tbsCertList signature');
  }
  // RFC 5280 5.1.2.2: the inner signature field MUST equal signatureAlgorithm.
  if (field.tag !== TAG.sequence || !sameBytes(der.subarray(field.start, field.end), signatureAlgorithmDer)) {
    throw new DerError('tbsCertList signature differs from signatureAlgorithm');
  }
  const issuerTlv = expectTlv(der, field.end, tbs.end, TAG.sequence, 'issuer Name');
  const issuerNameDer = der.subarray(issuerTlv.start, issuerTlv.end);
  const thisUpdateTlv = readTlv(der, issuerTlv.end, tbs.end, 'thisUpdate');
  const thisUpdate = readTime(der, thisUpdateTlv, 'thisUpdate');
  offset = thisUpdateTlv.end;
  let nextUpdate: Date | undefined;
  const unsupportedCritical: string[] = [];
  const builder = new RevokedSerialsBuilder();
  let extensionsTlv: Tlv | undefined;
  let walkedRevoked = false;
  while (offset < tbs.end) {
    const next = readTlv(der, offset, tbs.end, 'tbsCertList field');
    if ((next.tag === TAG.utcTime || next.tag === TAG.generalizedTime) && nextUpdate === undefined && offset === thisUpdateTlv.end) {
      nextUpdate = readTime(der, next, 'nextUpdate');
    } else if (next.tag === TAG.sequence && !walkedRevoked) {
      walkedRevoked = true;
      walkRevokedCertificates(der, next, builder, unsupportedCritical);
    } else if (next.tag === TAG.context0Constructed && next.end === tbs.end) {
      extensionsTlv = next;
    } else {
      throw new DerError('tbsCertList has unexpected fields');
    }
    offset = next.end;
  }
  const extensions = extensionsTlv ? readCrlExtensions(der.subarray(extensionsTlv.start, extensionsTlv.end), unsupportedCritical) : undefined;
  return {
    tbsDer: der.subarray(tbs.start, tbs.end),
    signatureAlgorithmDer,
    signature,
    issuerNameDer,
    issuer: formatName(decodeComplete(issuerNameDer, 'issuer Name')),
    thisUpdate,
    nextUpdate,
    crlNumberHex: extensions?.crlNumberHex,
    isDelta: extensions?.isDelta ?? false,
    idp: extensions?.idp,
    unsupportedCritical,
    revoked: builder.build(),
  };
}

function readTime(der: Uint8Array, tlv: Tlv, what: string): Date {
  if (tlv.tag !== TAG.utcTime && tlv.tag !== TAG.generalizedTime) throw new DerError(`${what} is not a Time`);
  return expectTime(decodeComplete(der.subarray(tlv.start, tlv.end), what), what);
}

/** Each entry: SEQUENCE { userCertificate INTEGER, revocationDate Time, crlEntryExtensions Extensions OPTIONAL }. */
function walkRevokedCertificates(der: Uint8Array, list: Tlv, builder: RevokedSerialsBuilder, unsupportedCritical: string[]): void {
  let offset = list.contentStart;
  while (offset < list.end) {
    const entry = expectTlv(der, offset, list.end, TAG.sequence, 'revokedCertificates entry');
    const serial = expectTlv(der, entry.contentStart, entry.end, TAG.integer, 'userCertificate');
    if (serial.end === serial.contentStart) throw new DerError('userCertificate is empty');
    const dateTlv = readTlv(der, serial.end, entry.end, 'revocationDate');
    const revocationMs = readFastTime(der, dateTlv);
    let reason: number | undefined;
    if (dateTlv.end < entry.end) {
      const extensions = expectTlv(der, dateTlv.end, entry.end, TAG.sequence, 'crlEntryExtensions');
      if (extensions.end !== entry.end) throw new DerError('revokedCertificates entry has trailing fields');
      reason = walkEntryExtensions(der, extensions, unsupportedCritical);
    }
    // removeFromCRL belongs to delta CRLs only (RFC 5280 5.3.1), which are refused: in a complete CRL it lists nothing.
    if (reason !== 8) builder.add(der.subarray(serial.contentStart, serial.end), revocationMs, reason);
    offset = entry.end;
  }
}

/** Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }; returns the reasonCode. */
function walkEntryExtensions(der: Uint8Array, list: Tlv, unsupportedCritical: string[]): number | undefined {
  let reason: number | undefined;
  const seen = new Set<string>();
  let offset = list.contentStart;
  while (offset < list.end) {
    const extension = expectTlv(der, offset, list.end, TAG.sequence, 'entry Extension');
    const oid = expectTlv(der, extension.contentStart, extension.end, TAG.oid, 'entry extnID');
    let valueTlv = readTlv(der, oid.end, extension.end, 'entry extension field');
    let critical = false;
    if (valueTlv.tag === TAG.boolean) {
      critical = valueTlv.end === valueTlv.contentStart + 1 && der[valueTlv.contentStart] === 0xff;
      valueTlv = readTlv(der, valueTlv.end, extension.end, 'entry extnValue');
    }
    if (valueTlv.tag !== TAG.octetString || valueTlv.end !== extension.end) throw new DerError('entry Extension is malformed');
    const id = Buffer.from(der.subarray(oid.contentStart, oid.end)).toString('hex');
    // RFC 5280 4.2 (and 5.3 by reference): one instance of an extension at most.
    if (seen.has(id)) throw new DerError('revokedCertificates entry repeats an extension');
    seen.add(id);
    if (id === ENTRY_REASON) {
      const enumerated = expectTlv(der, valueTlv.contentStart, valueTlv.end, TAG.enumerated, 'reasonCode');
      if (enumerated.end - enumerated.contentStart !== 1 || CRL_REASONS[der[enumerated.contentStart]!] === undefined) throw new DerError('reasonCode is not a CRLReason');
      reason = der[enumerated.contentStart]!;
    } else if (id === ENTRY_CERTIFICATE_ISSUER || (critical && !ENTRY_IGNORED.has(id))) {
      // certificateIssuer only appears in indirect CRLs, which staplerd does not accept (RFC 5280 5.3.3).
      unsupportedCritical.push(`entry extension ${expectOid(decodeComplete(der.subarray(oid.start, oid.end), 'extnID'), 'extnID')}`);
    }
    offset = extension.end;
  }
  return reason;
}

/** UTCTime YYMMDDHHMMSSZ / GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 5.1.2.6: DER forms only), parsed without asn1js. */
function readFastTime(der: Uint8Array, tlv: Tlv): number {
  const text = Buffer.from(der.subarray(tlv.contentStart, tlv.end)).toString('latin1');
  let match: RegExpExecArray | null;
  let year: number;
  if (tlv.tag === TAG.utcTime && (match = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    year = Number(match[1]) + (Number(match[1]) >= 50 ? 1900 : 2000);
  } else if (tlv.tag === TAG.generalizedTime && (match = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    year = Number(match[1]);
  } else {
    throw new DerError('revocationDate is not a DER UTCTime or GeneralizedTime');
  }
  const [month, day, hour, minute, second] = match.slice(2).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (Number.isNaN(ms) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) throw new DerError('revocationDate is not a valid time');
  return ms;
}

interface CrlExtensionFacts {
  crlNumberHex?: string;
  isDelta: boolean;
  idp?: IssuingDistributionPointFacts;
}

function readCrlExtensions(encoded: Uint8Array, unsupportedCritical: string[]): CrlExtensionFacts {
  const facts: CrlExtensionFacts = { isDelta: false };
  const seen = new Set<string>();
  for (const extension of expectSequence(unwrapExplicit(decodeComplete(encoded, 'crlExtensions'), 'crlExtensions'), 'crlExtensions')) {
    const parts = expectSequence(extension, 'Extension');
    const oid = expectOid(parts[0], 'extnID');
    if (seen.has(oid)) throw new DerError(`crlExtensions repeat ${oid}`);
    seen.add(oid);
    const critical = parts.length === 3 && parts[1] instanceof asn1js.Boolean && parts[1].valueBlock.value;
    const value = expectOctetString(parts[parts.length - 1], `extnValue of ${oid}`);
    if (oid === CRL_OID.crlNumber) {
      facts.crlNumberHex = serialToHex(expectInteger(decodeComplete(value, 'cRLNumber'), 'cRLNumber'));
    } else if (oid === CRL_OID.deltaCrlIndicator) {
      facts.isDelta = true;
    } else if (oid === CRL_OID.issuingDistributionPoint) {
      facts.idp = readIssuingDistributionPoint(value);
    } else if (critical && !KNOWN_CRL_EXTENSIONS.has(oid)) {
      unsupportedCritical.push(`CRL extension ${oid}`);
    }
  }
  return facts;
}

/** IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0], onlyContainsUserCerts [1], onlyContainsCACerts [2],
 *  onlySomeReasons [3], indirectCRL [4], onlyContainsAttributeCerts [5] } (RFC 5280 5.2.5), all IMPLICIT. */
function readIssuingDistributionPoint(value: Uint8Array): IssuingDistributionPointFacts {
  const fields = expectSequence(decodeComplete(value, 'issuingDistributionPoint'), 'issuingDistributionPoint');
  const flag = (tag: number): boolean => {
    const block = fields.find((f) => isContextTag(f, tag));
    return block !== undefined && readPrimitiveContents(block, `issuingDistributionPoint [${tag}]`)[0] === 0xff;
  };
  const point = fields.find((f) => isContextTag(f, 0));
  const name = point ? unwrapExplicit(point, 'distributionPoint') : undefined;
  return {
    fullNames: name && isContextTag(name, 0) ? readGeneralNameKeys(name) : undefined,
    hasRelativeName: name !== undefined && isContextTag(name, 1),
    onlyContainsUserCerts: flag(1),
    onlyContainsCACerts: flag(2),
    onlySomeReasons: fields.some((f) => isContextTag(f, 3)),
    indirectCrl: flag(4),
    onlyContainsAttributeCerts: flag(5),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
