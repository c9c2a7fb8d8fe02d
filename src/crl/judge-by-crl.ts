// Decides one certificate's revocation from its distribution points' states at an instant: revoked, good, or failed.
import { StaplerdError, toStaplerdError } from '../errors/index.js';
import type { Certificate } from '../pki/certificate.js';
import { checkCrlScope, checkCrlWindow, findRevocation, type Revocation, type ValidatedCrl } from '../pki/crl-validation.js';
import type { DistributionPointState } from './crl-checker.js';

export type CrlVerdict =
  | { readonly status: 'revoked'; readonly url: string; readonly crl: ValidatedCrl; readonly revocation: Revocation; readonly error?: StaplerdError }
  | { readonly status: 'good'; readonly url: string; readonly crl: ValidatedCrl; readonly error?: StaplerdError }
  | { readonly status: 'failed'; readonly url: string; readonly crl?: ValidatedCrl; readonly error: StaplerdError };

/**
 * Per distribution point, in certificate order, the first that decides wins:
 * - revoked: a CRL that validated lists the serial, even past its nextUpdate (revocation is final, RFC 5280 3.3; a
 *   certificateHold released is gone from the next, higher-numbered CRL, which then replaces it).
 * - good: a CRL within its thisUpdate..nextUpdate window whose scope covers the certificate does not list it.
 * - failed: none decides; the first point's error (the last download's, or why the kept CRL proves nothing now).
 */
export function judgeByCrl(points: readonly { url: string; state: DistributionPointState }[], cert: Certificate, at: Date, clockSkewMs: number): CrlVerdict {
  let firstFailure: CrlVerdict | undefined;
  for (const { url, state } of points) {
    const verdict = judgeOne(url, state, cert, at, clockSkewMs);
    if (verdict.status !== 'failed') return verdict;
    firstFailure ??= verdict;
  }
  return firstFailure!;
}

function judgeOne(url: string, state: DistributionPointState, cert: Certificate, at: Date, clockSkewMs: number): CrlVerdict {
  const { crl, error } = state;
  if (!crl) return { status: 'failed', url, error: error ?? new StaplerdError('FETCH_NETWORK', `${url}: no CRL downloaded yet`, { url }) };
  try {
    checkCrlScope(crl, cert, url);
    const revocation = findRevocation(crl, cert.summary.serialHex);
    if (revocation) return { status: 'revoked', url, crl, revocation, error };
    checkCrlWindow(crl, at, clockSkewMs, url);
    return { status: 'good', url, crl, error };
  } catch (thrown) {
    const reason = toStaplerdError(thrown, 'INTERNAL', { url });
    // The last download's error says more than "the kept one expired" (why there is no newer one); a scope mismatch
    // is about this certificate, whatever the download did.
    return { status: 'failed', url, crl, error: reason.code === 'CRL_SCOPE_MISMATCH' ? reason : (error ?? reason) };
  }
}
