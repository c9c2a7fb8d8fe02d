// Decodes a DER CertificateList (RFC 5280 5.1) without holding a decoded object per entry: every element is decoded by
// asn1js, the revokedCertificates entries one at a time, each written straight into a packed RevokedSerials index.
import * as asn1js from 'asn1js';
import {
  DerError, decodeDer, decodeNext, expectBitString, expectInteger, expectOctetString, expectOid, expectSequence, expectTime, isContextTag, isSequenceHeader,
  readDerHeader, readEncoding, readPrimitiveContents, ReusedPrimitiveDecoder, serialToHex, unwrapExplicit, type DerHeader,
} from './der.js';
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

/** Entry extensions (RFC 5280 5.3): reasonCode, invalidityDate and holdInstructionCode (ignored), certificateIssuer. */
const ENTRY_REASON = '2.5.29.21';
const ENTRY_IGNORED = new Set(['2.5.29.24', '2.5.29.23']);
const ENTRY_CERTIFICATE_ISSUER = '2.5.29.29';

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
 *
 * Every element is decoded by asn1js, DER only (der.ts). The enclosing SEQUENCEs (CertificateList, tbsCertList,
 * revokedCertificates) are read by their headers alone (readDerHeader: asn1js's identification and length blocks) and
 * their elements decoded one at a time (decodeNext), the entries field by field (readRevokedCertificates): asn1js.fromBER
 * (or pkijs's CertificateRevocationList) over the whole CRL would hold a tree of about ten objects per entry at once,
 * and asn1js's default maxNodes (10,000 per fromBER) refuses such a tree anyway.
 */
export function decodeCrl(der: Uint8Array): DecodedCrl {
  const outer = readDerHeader(der, 0, der.length, 'CertificateList');
  if (!isSequenceHeader(outer)) throw new DerError('CertificateList is not a SEQUENCE');
  if (outer.end !== der.length) throw new DerError(`CertificateList has ${der.length - outer.end} trailing byte(s)`);
  const tbs = readDerHeader(der, outer.contentStart, outer.end, 'tbsCertList');
  if (!isSequenceHeader(tbs)) throw new DerError('tbsCertList is not a SEQUENCE');
  const algorithm = decodeNext(der, tbs.end, outer.end, 'signatureAlgorithm');
  expectSequence(algorithm.block, 'signatureAlgorithm');
  const signatureValue = decodeNext(der, algorithm.end, outer.end, 'signatureValue');
  if (signatureValue.end !== outer.end) throw new DerError('CertificateList must have exactly three fields');
  const signatureAlgorithmDer = readEncoding(algorithm.block);
  const signature = expectBitString(signatureValue.block, 'signatureValue');

  let field = decodeNext(der, tbs.contentStart, tbs.end, 'tbsCertList field');
  if (field.block instanceof asn1js.Integer) {
    const version = expectInteger(field.block, 'version');
    if (version.length !== 1 || version[0] !== 1) throw new DerError('CRL version must be v2 (1) when present');
    field = decodeNext(der, field.end, tbs.end, 'tbsCertList signature');
  }
  // RFC 5280 5.1.2.2: the inner signature field MUST equal signatureAlgorithm.
  if (!(field.block instanceof asn1js.Sequence) || !sameBytes(readEncoding(field.block), signatureAlgorithmDer)) {
    throw new DerError('tbsCertList signature differs from signatureAlgorithm');
  }
  const issuerName = decodeNext(der, field.end, tbs.end, 'issuer Name');
  expectSequence(issuerName.block, 'issuer Name');
  const thisUpdateField = decodeNext(der, issuerName.end, tbs.end, 'thisUpdate');
  const thisUpdate = expectTime(thisUpdateField.block, 'thisUpdate');
  let offset = thisUpdateField.end;
  let nextUpdate: Date | undefined;
  const unsupportedCritical: string[] = [];
  const builder = new RevokedSerialsBuilder();
  let extensions: CrlExtensionFacts | undefined;
  let readRevoked = false;
  while (offset < tbs.end) {
    const header = readDerHeader(der, offset, tbs.end, 'tbsCertList field');
    if (isSequenceHeader(header) && !readRevoked) {
      // revokedCertificates: its elements are decoded one by one, never the list as a whole.
      readRevoked = true;
      readRevokedCertificates(der, header, builder, unsupportedCritical);
    } else {
      const block = decodeDer(der.subarray(header.start, header.end), 'tbsCertList field');
      if (block instanceof asn1js.UTCTime && nextUpdate === undefined && offset === thisUpdateField.end) {
        nextUpdate = expectTime(block, 'nextUpdate');
      } else if (isContextTag(block, 0) && block.idBlock.isConstructed && header.end === tbs.end) {
        extensions = readCrlExtensions(block, unsupportedCritical);
      } else {
        throw new DerError('tbsCertList has unexpected fields');
      }
    }
    offset = header.end;
  }
  return {
    tbsDer: der.subarray(tbs.start, tbs.end),
    signatureAlgorithmDer,
    signature,
    issuerNameDer: readEncoding(issuerName.block),
    issuer: formatName(issuerName.block),
    thisUpdate,
    nextUpdate,
    crlNumberHex: extensions?.crlNumberHex,
    isDelta: extensions?.isDelta ?? false,
    idp: extensions?.idp,
    unsupportedCritical,
    revoked: builder.build(),
  };
}

/**
 * Each entry: SEQUENCE { userCertificate INTEGER, revocationDate Time, crlEntryExtensions Extensions OPTIONAL },
 * decoded by asn1js field by field, the INTEGER and the Time into reused asn1js blocks (a fresh asn1js tree per entry
 * took 10 s for 215,000 entries, mostly in asn1js's block constructors), and written into the builder's packed records.
 * Entries mostly repeat the same crlEntryExtensions encoding (a reasonCode), so what asn1js read from an encoding is
 * kept for the identical bytes of the next entries (up to ENTRY_EXTENSIONS_MEMO distinct encodings).
 */
function readRevokedCertificates(der: Uint8Array, list: DerHeader, builder: RevokedSerialsBuilder, unsupportedCritical: string[]): void {
  const memo = new Map<string, EntryExtensionFacts>();
  let offset = list.contentStart;
  while (offset < list.end) {
    const entry = readDerHeader(der, offset, list.end, 'revokedCertificates entry');
    if (!isSequenceHeader(entry)) throw new DerError('revokedCertificates entry is not a SEQUENCE');
    const serialField = readDerHeader(der, entry.contentStart, entry.end, 'userCertificate');
    const serial = INTEGER.decode(der, serialField, 'userCertificate').valueBlock.valueHexView;
    if (serial.length === 0) throw new DerError('userCertificate is empty');
    const dateField = readDerHeader(der, serialField.end, entry.end, 'revocationDate');
    const timeDecoder = GENERALIZED_TIME.accepts(dateField) ? GENERALIZED_TIME : UTC_TIME;
    const revocationMs = readRevocationDate(timeDecoder.decode(der, dateField, 'revocationDate'));
    let reason: number | undefined;
    if (dateField.end < entry.end) {
      const extensions = readDerHeader(der, dateField.end, entry.end, 'crlEntryExtensions');
      if (extensions.end !== entry.end) throw new DerError('revokedCertificates entry has trailing fields');
      const encoding = der.subarray(extensions.start, extensions.end);
      const key = Buffer.from(encoding.buffer, encoding.byteOffset, encoding.byteLength).toString('latin1');
      let facts = memo.get(key);
      if (!facts) {
        facts = readEntryExtensions(expectSequence(decodeDer(encoding, 'crlEntryExtensions'), 'crlEntryExtensions'));
        if (memo.size < ENTRY_EXTENSIONS_MEMO) memo.set(key, facts);
      }
      reason = facts.reason;
      for (const name of facts.unsupported) if (!unsupportedCritical.includes(name)) unsupportedCritical.push(name);
    }
    // removeFromCRL belongs to delta CRLs only (RFC 5280 5.3.1), which are refused: in a complete CRL it lists nothing.
    if (reason !== 8) builder.add(serial, revocationMs, reason);
    offset = entry.end;
  }
}

const ENTRY_EXTENSIONS_MEMO = 256;

/** One asn1js block of each type the entries are decoded into, reused (der.ts ReusedPrimitiveDecoder). */
const INTEGER = new ReusedPrimitiveDecoder(new asn1js.Integer());
const UTC_TIME = new ReusedPrimitiveDecoder(new asn1js.UTCTime());
const GENERALIZED_TIME = new ReusedPrimitiveDecoder(new asn1js.GeneralizedTime());

interface EntryExtensionFacts {
  readonly reason?: number;
  /** Critical entry extensions not processed, and certificateIssuer. */
  readonly unsupported: readonly string[];
}

/** Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }; returns the reasonCode. */
function readEntryExtensions(list: asn1js.AsnType[]): EntryExtensionFacts {
  let reason: number | undefined;
  const unsupportedCritical: string[] = [];
  const seen = new Set<string>();
  for (const extension of list) {
    const parts = expectSequence(extension, 'entry Extension');
    const id = expectOid(parts[0], 'entry extnID');
    const hasCritical = parts[1] instanceof asn1js.Boolean;
    // Any non-zero BOOLEAN counts as TRUE (X.690 8.2.2), so a non-DER TRUE cannot hide a critical extension.
    const critical = parts[1] instanceof asn1js.Boolean && parts[1].valueBlock.value;
    if (parts.length !== (hasCritical ? 3 : 2)) throw new DerError('entry Extension is malformed');
    const value = expectOctetString(parts[parts.length - 1], 'entry extnValue');
    // RFC 5280 4.2 (and 5.3 by reference): one instance of an extension at most.
    if (seen.has(id)) throw new DerError('revokedCertificates entry repeats an extension');
    seen.add(id);
    if (id === ENTRY_REASON) {
      const enumerated = decodeDer(value, 'reasonCode');
      if (!(enumerated instanceof asn1js.Enumerated)) throw new DerError('reasonCode is not an ENUMERATED');
      const code = enumerated.valueBlock.valueHexView;
      if (code.length !== 1 || CRL_REASONS[code[0]!] === undefined) throw new DerError('reasonCode is not a CRLReason');
      reason = code[0]!;
    } else if (id === ENTRY_CERTIFICATE_ISSUER || (critical && !ENTRY_IGNORED.has(id))) {
      // certificateIssuer only appears in indirect CRLs, which staplerd does not accept (RFC 5280 5.3.3).
      unsupportedCritical.push(`entry extension ${id}`);
    }
  }
  return { reason, unsupported: unsupportedCritical };
}

/**
 * revocationDate as asn1js decoded it, in the DER forms RFC 5280 5.1.2.6 allows only: UTCTime YYMMDDHHMMSSZ or
 * GeneralizedTime YYYYMMDDHHMMSSZ (asn1js itself also accepts fractions and offsets, which DER CRLs must not use).
 */
function readRevocationDate(block: asn1js.AsnType | undefined): number {
  if (!(block instanceof asn1js.UTCTime)) throw new DerError('revocationDate is neither UTCTime nor GeneralizedTime');
  const form = block instanceof asn1js.GeneralizedTime ? /^\d{14}Z$/ : /^\d{12}Z$/;
  const text = block.valueBlock.valueHexView;
  if (!form.test(Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('latin1'))) {
    throw new DerError('revocationDate is not a DER UTCTime or GeneralizedTime');
  }
  const { month, day, hour, minute, second } = block;
  const ms = block.toDate().getTime();
  if (Number.isNaN(ms) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) throw new DerError('revocationDate is not a valid time');
  return ms;
}

interface CrlExtensionFacts {
  crlNumberHex?: string;
  isDelta: boolean;
  idp?: IssuingDistributionPointFacts;
}

function readCrlExtensions(wrapped: asn1js.AsnType, unsupportedCritical: string[]): CrlExtensionFacts {
  const facts: CrlExtensionFacts = { isDelta: false };
  const seen = new Set<string>();
  for (const extension of expectSequence(unwrapExplicit(wrapped, 'crlExtensions'), 'crlExtensions')) {
    const parts = expectSequence(extension, 'Extension');
    const oid = expectOid(parts[0], 'extnID');
    if (seen.has(oid)) throw new DerError(`crlExtensions repeat ${oid}`);
    seen.add(oid);
    const critical = parts.length === 3 && parts[1] instanceof asn1js.Boolean && parts[1].valueBlock.value;
    const value = expectOctetString(parts[parts.length - 1], `extnValue of ${oid}`);
    if (oid === CRL_OID.crlNumber) {
      facts.crlNumberHex = serialToHex(expectInteger(decodeDer(value, 'cRLNumber'), 'cRLNumber'));
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
  const fields = expectSequence(decodeDer(value, 'issuingDistributionPoint'), 'issuingDistributionPoint');
  const flag = (tag: number): boolean => {
    const block = fields.find((f) => isContextTag(f, tag));
    // Any non-zero contents octet is TRUE (X.690 8.2.2): a non-DER TRUE cannot hide indirectCRL or a scope flag.
    return block !== undefined && readPrimitiveContents(block, `issuingDistributionPoint [${tag}]`).some((octet) => octet !== 0);
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
