// Validates a CRL for one issuer, then judges its time window and its scope for one certificate, at injected instants.
import { StaplerdError } from '../errors/index.js';
import type { Certificate } from './certificate.js';
import { decodeCrl, type IssuingDistributionPointFacts } from './crl-decode.js';
import { mayIssueCrls, readCrlDistributionPoints } from './crl-distribution-points.js';
import { equalBytes } from './der.js';
import type { Revocation, RevokedSerials } from './revoked-serials.js';

export type { Revocation } from './revoked-serials.js';

/** A CRL whose signature, issuer and extensions passed validateCrl: small facts and the packed serials, no DER. */
export interface ValidatedCrl {
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly crlNumberHex?: string;
  readonly idp?: IssuingDistributionPointFacts;
  readonly revoked: RevokedSerials;
}

export interface CrlValidationInput {
  /** The certificate issuer: its key must have signed the CRL, its subject must be the CRL's issuer (RFC 5280 6.3.3). */
  readonly issuer: Certificate;
  /** Names the CRL (its URL or file) in errors. */
  readonly source: string;
}

/**
 * Everything that does not depend on the time or on one certificate: well-formed DER, signature by the issuer's key
 * (and cRLSign when the issuer has keyUsage), issuer Name equal to the issuer's subject (DER compared, as for
 * certificates in certificate.ts), a complete CRL (no deltaCRLIndicator, RFC 5280 5.2.4), every critical extension
 * understood (5.2, 5.3), not indirect (5.2.5), and a nextUpdate (5.1.2.5: conforming CAs include it). Throws StaplerdError.
 */
export async function validateCrl(der: Uint8Array, input: CrlValidationInput): Promise<ValidatedCrl> {
  const { issuer, source } = input;
  let decoded: ReturnType<typeof decodeCrl>;
  try {
    decoded = decodeCrl(der);
  } catch (error) {
    throw new StaplerdError('CRL_MALFORMED', `${source}: not a DER CRL (${error instanceof Error ? error.message : String(error)})`, { url: source }, { cause: error });
  }
  if (!equalBytes(decoded.issuerNameDer, issuer.subjectNameDer)) {
    throw new StaplerdError('CRL_UNVERIFIED', `${source}: CRL issuer "${decoded.issuer}" is not the certificate's issuer "${issuer.summary.subject}"`, { url: source });
  }
  if (!mayIssueCrls(issuer)) throw new StaplerdError('CRL_UNVERIFIED', `${source}: the issuer's keyUsage does not allow cRLSign`, { url: source });
  const verified = await issuer.verifies({ data: decoded.tbsDer, signature: decoded.signature, algorithmDer: decoded.signatureAlgorithmDer });
  if (!verified) throw new StaplerdError('CRL_UNVERIFIED', `${source}: CRL signature does not verify with the issuer's key`, { url: source });
  if (decoded.isDelta) throw new StaplerdError('CRL_UNSUPPORTED', `${source}: delta CRL (deltaCRLIndicator); only complete CRLs are used`, { url: source });
  if (decoded.unsupportedCritical.length > 0) {
    throw new StaplerdError('CRL_UNSUPPORTED', `${source}: unsupported critical ${decoded.unsupportedCritical.slice(0, 3).join(', ')}`, { url: source });
  }
  if (decoded.idp?.indirectCrl) throw new StaplerdError('CRL_UNSUPPORTED', `${source}: indirect CRL`, { url: source });
  if (!decoded.nextUpdate) throw new StaplerdError('CRL_EXPIRED', `${source}: CRL has no nextUpdate`, { url: source });
  return {
    issuer: decoded.issuer, thisUpdate: decoded.thisUpdate, nextUpdate: decoded.nextUpdate, crlNumberHex: decoded.crlNumberHex, idp: decoded.idp, revoked: decoded.revoked,
  };
}

/** thisUpdate <= at + skew and at < nextUpdate (RFC 5280 6.3.3 (a)(2)): an expired CRL proves nothing now. */
export function checkCrlWindow(crl: Pick<ValidatedCrl, 'thisUpdate' | 'nextUpdate'>, at: Date, clockSkewMs: number, source: string): void {
  if (crl.thisUpdate.getTime() > at.getTime() + clockSkewMs) {
    throw new StaplerdError('CRL_NOT_YET_VALID', `${source}: CRL thisUpdate ${crl.thisUpdate.toISOString()} is in the future`, { url: source });
  }
  if (crl.nextUpdate.getTime() <= at.getTime()) {
    throw new StaplerdError('CRL_EXPIRED', `${source}: CRL nextUpdate ${crl.nextUpdate.toISOString()} has passed`, { url: source });
  }
}

/**
 * The CRL's IssuingDistributionPoint covers this certificate (RFC 5280 5.2.5, 6.3.3 (b)(2)): a point name shared with
 * the certificate's distribution point, the right kind of certificate, every reason. Throws CRL_SCOPE_MISMATCH.
 */
export function checkCrlScope(crl: Pick<ValidatedCrl, 'idp'>, cert: Certificate, source: string): void {
  const idp = crl.idp;
  if (!idp) return;
  const refuse = (why: string): never => {
    throw new StaplerdError('CRL_SCOPE_MISMATCH', `${source}: CRL does not cover this certificate (${why})`, { url: source });
  };
  if (idp.onlyContainsCACerts && !cert.summary.isCA) refuse('onlyContainsCACerts');
  if (idp.onlyContainsUserCerts && cert.summary.isCA) refuse('onlyContainsUserCerts');
  if (idp.onlyContainsAttributeCerts) refuse('onlyContainsAttributeCerts');
  if (idp.onlySomeReasons) refuse('onlySomeReasons: a partial CRL cannot show a certificate is not revoked');
  if (idp.hasRelativeName) refuse('nameRelativeToCRLIssuer is not supported');
  if (idp.fullNames) {
    const names = new Set(readCrlDistributionPoints(cert).nameKeys);
    if (!idp.fullNames.some((name) => names.has(name))) refuse("distribution point name differs from the certificate's");
  }
}

/** The certificate's entry on the CRL, or undefined when it is not listed. */
export function findRevocation(crl: Pick<ValidatedCrl, 'revoked'>, serialHex: string): Revocation | undefined {
  return crl.revoked.find(serialHex);
}

/** -1, 0 or 1: which CRL number is higher (hex without leading zeros, RFC 5280 5.2.3 monotonically increasing). */
export function compareCrlNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
