// Whether one staple may be served for a certificate: CertID match, full validation once per version, time window per request.
import { toStaplerdError, type ErrorCode, type StaplerdError } from '../../errors/index.js';
import { equalBytes } from '../../pki/der.js';
import { digestByOid, isSupportedHashOid } from '../../pki/digest.js';
import { impliedNextUpdate, validateOcspResponse, type CertStatus, type Certificate } from '../../pki/index.js';
import { isUsableAt } from '../../policy/staple-usability.js';
import type { StapleCertId, StapleFile } from './staple-file.js';

/** What full validation concluded about one SingleResponse of one staple version, against one issuer. */
export type Verdict =
  | { readonly genuine: true; readonly certStatus: CertStatus; readonly thisUpdate: Date; readonly nextUpdate: Date }
  | { readonly genuine: false; readonly error: StaplerdError };

export interface TimeWindow {
  readonly clockSkewMs: number;
  readonly minRemainingMs: number;
}

/**
 * validateOcspResponse checks the time window last (src/pki/ocsp-response.ts, rule 4 after rules 1-3), so these codes
 * mean "signature, responder and CertID are fine, only the time is wrong": the staple is genuine, and since the
 * window is re-checked on every request, a not-yet-valid staple starts being served when its time comes.
 */
const TIME_WINDOW_CODES: ReadonlySet<ErrorCode> = new Set(['RESPONSE_EXPIRED', 'RESPONSE_NOT_YET_VALID', 'RESPONSE_NO_NEXT_UPDATE']);

/** The CertID names this issuer: its Name and key hashed with the CertID's own algorithm (RFC 6960 4.1.1). */
export function matchesIssuer(certId: StapleCertId, issuer: Certificate): boolean {
  if (!isSupportedHashOid(certId.hashAlgorithm)) return false;
  return equalBytes(certId.issuerNameHash, digestByOid(certId.hashAlgorithm, issuer.subjectNameDer))
    && equalBytes(certId.issuerKeyHash, digestByOid(certId.hashAlgorithm, issuer.publicKeyBits));
}

/** Without the issuer certificate only its Name is known (the leaf's issuer field): the key hash cannot be compared. */
export function matchesIssuerName(certId: StapleCertId, issuerNameDer: Uint8Array): boolean {
  if (!isSupportedHashOid(certId.hashAlgorithm)) return false;
  return equalBytes(certId.issuerNameHash, digestByOid(certId.hashAlgorithm, issuerNameDer));
}

/** Runs every check of validateOcspResponse at `at` (the expensive part: signatures) and keeps what the window check needs. */
export async function judgeStaple(staple: StapleFile, certId: StapleCertId, issuer: Certificate, at: Date, window: TimeWindow): Promise<Verdict> {
  try {
    const validated = await validateOcspResponse(staple.der, {
      issuer, serialHex: certId.serialHex, at, clockSkewMs: window.clockSkewMs, minRemainingMs: window.minRemainingMs, file: staple.file,
    });
    return { genuine: true, certStatus: validated.certStatus, thisUpdate: validated.thisUpdate, nextUpdate: validated.nextUpdate };
  } catch (error) {
    const failure = toStaplerdError(error, 'INTERNAL', { file: staple.file });
    if (TIME_WINDOW_CODES.has(failure.code)) {
      // Without nextUpdate the staple lives thisUpdate + the default lifetime, as validateOcspResponse judges it.
      return { genuine: true, certStatus: certId.certStatus, thisUpdate: certId.thisUpdate, nextUpdate: certId.nextUpdate ?? impliedNextUpdate(certId.thisUpdate) };
    }
    return { genuine: false, error: failure };
  }
}

/**
 * Why a genuine staple must not be served at `at`, or undefined. Same window as validateOcspResponse (RFC 5019 4,
 * RFC 6960 4.2.2.1). "unknown" is not served: the daemon never writes it (docs/behaviour.md) and it tells a client
 * nothing, while must-staple clients treat it as a failure.
 */
export function findServingProblem(verdict: Verdict & { genuine: true }, at: Date, window: TimeWindow): ErrorCode | undefined {
  if (verdict.thisUpdate.getTime() > at.getTime() + window.clockSkewMs) return 'RESPONSE_NOT_YET_VALID';
  if (!isUsableAt(verdict, at, window.minRemainingMs)) return 'RESPONSE_EXPIRED';
  if (verdict.certStatus === 'unknown') return 'CERT_STATUS_UNKNOWN';
  return undefined;
}
