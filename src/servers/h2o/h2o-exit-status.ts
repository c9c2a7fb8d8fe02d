// H2O's ocsp-update-cmd contract: which exit status tells H2O to retry later, and which stops stapling.
import { policyForCode, type ErrorCode } from '../../errors/index.js';

/**
 * Exit statuses H2O tells apart (h2o 2.2 src/main.c, ocsp_updater_thread): 0 staples stdout, EX_TEMPFAIL (75,
 * sysexits.h) keeps the previous response and retries after ocsp-update-interval, anything else disables stapling
 * for that certificate until H2O restarts.
 */
export const EX_OK = 0;
/** Permanent: no OCSP URL, expired or unparsable certificate, revoked with `onRevoked: remove`. */
export const EX_PERMANENT = 1;
/** Bad usage or configuration: permanent for H2O too, and staplerd's usual status for it. */
export const EX_USAGE_OR_CONFIG = 2;
export const EX_TEMPFAIL = 75;

/** H2O's view of a failure: retried later when staplerd's code table says another attempt may succeed. */
export function exitStatusFor(code: ErrorCode): number {
  const policy = policyForCode(code);
  if (policy.exitCode === 2) return EX_USAGE_OR_CONFIG;
  // CERT_REVOKED only gets here with `onRevoked: remove`: the staple was removed on purpose and will not come back.
  if (code === 'CERT_REVOKED') return EX_PERMANENT;
  return policy.retry ? EX_TEMPFAIL : EX_PERMANENT;
}
