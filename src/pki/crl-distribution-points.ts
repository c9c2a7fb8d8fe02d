// Reads a certificate's CRL distribution points (RFC 5280 4.2.1.13) and its issuer's cRLSign permission (4.2.1.3),
// decoded on demand: only certificates whose revocation is checked through a CRL pay for it, and the decoded-facts
// state format (pki/decoded-facts.ts) stays as it is.
import * as asn1js from 'asn1js';
import type { Certificate } from './certificate.js';
import { DerError, decodeComplete, expectBitString, expectSequence, isContextTag, readChildren, readEncoding, readPrimitiveContents, unwrapExplicit } from './der.js';
import { readCertificateFields } from './x509-fields.js';

const CRL_DISTRIBUTION_POINTS = '2.5.29.31';
const KEY_USAGE = '2.5.29.15';

export interface CrlDistributionPoints {
  /** http:// URLs of distribution points without `reasons` or `cRLIssuer`, in certificate order (RFC 5280 4.2.1.13:
   *  HTTP is the practice; LDAP and https CRL URLs are not fetched). */
  readonly urls: readonly string[];
  /** Hex DER of every GeneralName of those points' fullName: what an IssuingDistributionPoint must share (5.2.5). */
  readonly nameKeys: readonly string[];
}

const NONE: CrlDistributionPoints = Object.freeze({ urls: [], nameKeys: [] });
const pointsByCertificate = new WeakMap<Certificate, CrlDistributionPoints>();

/** The certificate's usable CRL distribution points; none when it has no such extension. Throws DerError when malformed. */
export function readCrlDistributionPoints(certificate: Certificate): CrlDistributionPoints {
  let points = pointsByCertificate.get(certificate);
  if (!points) {
    const value = readCertificateFields(decodeComplete(certificate.der, 'certificate')).extensions.get(CRL_DISTRIBUTION_POINTS);
    points = value ? decodePoints(value) : NONE;
    pointsByCertificate.set(certificate, points);
  }
  return points;
}

/** DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL, reasons [1], cRLIssuer [2] }. */
function decodePoints(value: Uint8Array): CrlDistributionPoints {
  const urls: string[] = [];
  const nameKeys: string[] = [];
  for (const point of expectSequence(decodeComplete(value, 'cRLDistributionPoints'), 'cRLDistributionPoints')) {
    const fields = expectSequence(point, 'DistributionPoint');
    // A partitioned (reasons) or indirect (cRLIssuer) point cannot prove "not revoked" on its own.
    if (fields.some((f) => isContextTag(f, 1) || isContextTag(f, 2))) continue;
    const wrapped = fields.find((f) => isContextTag(f, 0));
    const name = wrapped ? unwrapExplicit(wrapped, 'distributionPoint') : undefined;
    if (!name || !isContextTag(name, 0)) continue;
    nameKeys.push(...readGeneralNameKeys(name));
    for (const general of readChildren(name, 'fullName')) {
      if (!isContextTag(general, 6)) continue;
      const url = Buffer.from(readPrimitiveContents(general, 'uniformResourceIdentifier')).toString('latin1');
      if (/^http:\/\/[^\s]+$/i.test(url)) urls.push(url);
    }
  }
  return { urls, nameKeys };
}

/** RFC 5280 6.3.3 (f): when the issuer has keyUsage, cRLSign (bit 6) must be set for it to sign CRLs. */
export function mayIssueCrls(issuer: Certificate): boolean {
  const value = readCertificateFields(decodeComplete(issuer.der, 'certificate')).extensions.get(KEY_USAGE);
  if (!value) return true;
  const block = decodeComplete(value, 'keyUsage');
  if (!(block instanceof asn1js.BitString)) throw new DerError('keyUsage is not a BIT STRING');
  const bits = expectBitString(block, 'keyUsage');
  return bits.length > 0 && (bits[0]! & 0x02) !== 0;
}

/** GeneralNames as hex of each GeneralName's DER: a CRL's IssuingDistributionPoint is compared with them byte for byte. */
export function readGeneralNameKeys(names: asn1js.AsnType): string[] {
  return readChildren(names, 'GeneralNames').map((name) => Buffer.from(readEncoding(name)).toString('hex'));
}
