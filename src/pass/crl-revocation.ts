// The pass's side of CRL checking (docs/revocation.md): which certificates are checked, and the outcome each verdict
// gives. The crl module (decoder, downloads) is imported here only when a certificate needs it.
import { StaplerdError, toStaplerdError } from '../errors/index.js';
import { logFailure } from '../log/index.js';
import { createHostLimiter, type HostLimiter } from '../ocsp/host-limiter.js';
import { readCrlDistributionPoints } from '../pki/crl-distribution-points.js';
import { resolveStateDir } from '../state/state-dir.js';
import type { CrlStatus } from '../types/index.js';
import { USER_AGENT } from '../version.js';
import type { StapleTarget } from './collect-targets.js';
import type { CrlSlot, TargetOutcome } from './pass-types.js';
import type { TargetContext } from './target-context.js';

/** What the pass hands each certificate for CRLs: the shared checker slot and the pass's per-host limiter. */
export interface PassCrl {
  readonly slot: CrlSlot;
  readonly limiter: HostLimiter;
}

/** Whether --crl-check asks for a certificate's CRL at all: `always`, or (`no-ocsp`, the default) without OCSP. */
export function isCrlChecked(crlCheck: TargetContext['config']['crlCheck'], hasOcsp: boolean): boolean {
  return crlCheck === 'always' || (crlCheck === 'no-ocsp' && !hasOcsp);
}

/** The certificate's http:// CRL URLs when --crl-check applies to it, else none (malformed extension: none, as before). */
export function crlUrlsToCheck(target: Pick<StapleTarget, 'leaf'>, crlCheck: TargetContext['config']['crlCheck'], hasOcsp: boolean): readonly string[] {
  if (!isCrlChecked(crlCheck, hasOcsp)) return [];
  try {
    return readCrlDistributionPoints(target.leaf).urls;
  } catch {
    return [];
  }
}

/**
 * `outcome` with the CRL's verdict applied: revoked turns it into a revoked outcome (source crl, exit 1, the
 * --on-revoked hook); good adds the CRL's facts; a failure fails a certificate that has nothing else (no OCSP), and
 * changes no OCSP verdict. Never writes beside the certificate: there is nothing to staple.
 */
export async function applyCrlVerdict(target: StapleTarget, ctx: TargetContext, outcome: TargetOutcome, logFields: Record<string, unknown>): Promise<TargetOutcome> {
  const urls = crlUrlsToCheck(target, ctx.config.crlCheck, outcome.kind !== 'not-applicable');
  if (urls.length === 0 || outcome.kind === 'revoked' || outcome.kind === 'expired-certificate') return outcome;
  const crlModule = await import('../crl/index.js');
  if (!target.issuer) {
    const error = target.issuerError ?? new StaplerdError('ISSUER_NOT_FOUND', 'issuer unknown: the CRL signature cannot be checked', { file: outcome.certFiles[0] });
    if (!ctx.dryRun) logFailure(ctx.deps.logger, 'crl.failed', error, { ...logFields, url: urls[0] });
    return withCrlFailure(outcome, { url: urls[0]!, status: 'failed', errorCode: error.code, errorMessage: error.message }, error);
  }
  const crl: PassCrl = ctx.crl ?? { slot: {}, limiter: createHostLimiter({ perHost: ctx.config.perHostConcurrency, global: ctx.config.concurrency }) };
  const { config, deps } = ctx;
  crl.slot.checker ??= Promise.resolve(
    crlModule.createCrlChecker({ stateDir: resolveStateDir(config.stateDir), maxCrlBytes: config.maxCrlBytes, clockSkewMs: config.clockSkewMs, logger: deps.logger }),
  );
  const checker = await crl.slot.checker;
  const now = deps.clock.now();
  const transport = { http: deps.http, limiter: crl.limiter, timeoutMs: config.timeoutMs, maxCrlBytes: config.maxCrlBytes, userAgent: USER_AGENT, now: () => deps.clock.now() };
  const issuer = target.issuer.issuer;
  const points = [];
  for (const url of urls) points.push({ url, state: await checker.lookup(url, issuer, { now, dryRun: ctx.dryRun ?? false, force: config.force, transport }) });
  const verdict = crlModule.judgeByCrl(points, target.leaf, now, config.clockSkewMs);
  const facts: CrlStatus = {
    url: verdict.url,
    status: verdict.status,
    thisUpdate: verdict.crl?.thisUpdate,
    nextUpdate: verdict.crl?.nextUpdate,
    crlNumber: verdict.crl?.crlNumberHex,
    ...(verdict.status === 'revoked' ? { revocationTime: verdict.revocation.revocationTime, revocationReason: verdict.revocation.reason } : {}),
    ...(verdict.error ? { errorCode: verdict.error.code, errorMessage: verdict.error.message } : {}),
  };
  if (verdict.status === 'revoked') {
    if (!ctx.dryRun) {
      logFailure(deps.logger, 'cert.revoked', new StaplerdError('CERT_REVOKED', 'certificate is REVOKED (listed on its CRL)'), {
        ...logFields, source: 'crl', url: verdict.url, revocationTime: facts.revocationTime, reason: facts.revocationReason, crlNumber: facts.crlNumber,
      });
    }
    return {
      // certStatus, thisUpdate and nextUpdate stay the staple's (none without OCSP): the CRL's are in `crl`.
      ...outcome, kind: 'revoked', code: 'CERT_REVOKED', message: undefined, hasGoodStaple: false, revocationSource: 'crl', crl: facts,
    };
  }
  if (verdict.status === 'good') {
    deps.logger.log('debug', 'crl.good', 'certificate not revoked per its CRL', { ...logFields, url: verdict.url, nextUpdate: facts.nextUpdate });
    return { ...outcome, crl: facts };
  }
  const error = toStaplerdError(verdict.error);
  // A download failure was logged once for its distribution point (crl.failed); a thousand certificates naming it
  // repeat it only at debug. A verdict failure (scope, an expired kept CRL) is this certificate's own: warned.
  const downloadFailure = points.some((point) => point.state.error === verdict.error);
  const fields = { ...logFields, url: verdict.url, keptCrl: verdict.crl !== undefined };
  if (downloadFailure) deps.logger.log('debug', 'cert.crl_failed', error.message, { ...fields, code: error.code });
  else if (!ctx.dryRun) logFailure(deps.logger, 'cert.crl_failed', error, fields);
  return withCrlFailure(outcome, facts, error);
}

/** Without OCSP the CRL is the only verdict, so its failure fails the certificate; with OCSP it is only reported. */
function withCrlFailure(outcome: TargetOutcome, facts: CrlStatus, error: StaplerdError): TargetOutcome {
  if (outcome.kind !== 'not-applicable') return { ...outcome, crl: facts };
  return { ...outcome, kind: 'failed', code: error.code, message: error.message, hasGoodStaple: false, crl: facts };
}
