// Brings one certificate's staples up to date: judge what is on disk, decide, then fetch and apply only what is better.
import { StaplerdError, toStaplerdError } from '../errors/index.js';
import { logFailure } from '../log/index.js';
import { buildOcspRequest } from '../pki/ocsp-request.js';
import { validateOcspResponse } from '../pki/ocsp-response.js';
import type { ValidatedResponse } from '../pki/types.js';
import type { StapleSource } from '../fleet/index.js';
import { computeUsableUntil, decideFetch, isAwaitingInputChange, type FetchDecision } from '../policy/index.js';
import { applyResponse } from './apply-response.js';
import { applyCrlVerdict, isCrlChecked } from './crl-revocation.js';
import { responderUrlsOf, type StapleTarget } from './collect-targets.js';
import { allGood, describeFiles, judgeStaplesOnDisk, judgeStaplesWithoutIssuer, newestValid, type ExistingStaple } from './judge-staples.js';
import type { TargetOutcome } from './pass-types.js';
import { logTargetFailure, removeInvalidStaples } from './remove-staples.js';
import type { TargetContext } from './target-context.js';
import { describeInput, recordFailure, rememberRefreshAt, rememberStapleSource } from './target-history.js';
import { makeOutcome, type OutcomeBase } from './target-outcome.js';
import { yieldToEventLoop } from './yield-to-event-loop.js';

export type { FetchValidated } from './target-context.js';
export { removeStaple } from './remove-staples.js';

type LogFields = Record<string, unknown>;

/** What the steps below share about one certificate in one pass. */
interface TargetStep {
  readonly target: StapleTarget;
  readonly ctx: TargetContext;
  readonly base: OutcomeBase;
  readonly logFields: LogFields;
  readonly now: Date;
  readonly urls: readonly string[];
}

export async function processTarget(target: StapleTarget, ctx: TargetContext): Promise<TargetOutcome> {
  const outcome = await processStaples(target, ctx);
  // docs/revocation.md: without OCSP (or with --crl-check always) the certificate's CRL decides whether it is revoked.
  // Asked first, so a certificate whose CRL is not checked (most, by default) costs no async step and no log fields.
  if (!isCrlChecked(ctx.config.crlCheck, outcome.kind !== 'not-applicable')) return outcome;
  const summary = target.leaf.summary;
  return applyCrlVerdict(target, ctx, outcome, { file: outcome.certFiles.join(', '), serial: summary.serialHex, subject: summary.subject });
}

async function processStaples(target: StapleTarget, ctx: TargetContext): Promise<TargetOutcome> {
  // Awaited only when the slice is over: even `await undefined` costs each target a turn of the microtask queue.
  const turn = yieldToEventLoop();
  if (turn) await turn;
  const summary = target.leaf.summary;
  const urls = responderUrlsOf(target.leaf, ctx.config.responder);
  const base: OutcomeBase = {
    certFiles: target.files.map((f) => f.certFile),
    stapleFiles: target.files.map((f) => f.stapleFile),
    subject: summary.subject,
    serialHex: summary.serialHex,
    mustStaple: summary.mustStaple,
    key: target.key,
    ocspUrl: urls[0],
  };
  const logFields = { file: base.certFiles.join(', '), serial: summary.serialHex, subject: summary.subject };
  const step: TargetStep = { target, ctx, base, logFields, now: ctx.deps.clock.now(), urls };

  if (isUnfetchable(step) || !target.issuer) return judgeUnfetchable(step);
  const withIssuer: TargetStep = { ...step, base: { ...base, issuerSource: target.issuer.source, issuerPem: target.issuer.issuer.toPem() } };
  const existing = await judgeStaplesOnDisk(target, ctx, step.now);
  if (ctx.dryRun) return evaluateOnly(withIssuer, existing);
  const decision = decideForTarget(withIssuer, existing);
  if (decision.action === 'keep') return keepFresh(withIssuer, existing, decision);
  if (decision.action === 'wait') return waitForRetry(withIssuer, existing, decision.awaitingChange);
  return fetchAndApply(withIssuer, existing);
}

/** Whether no fetch can be made for the certificate: expired, no OCSP URL, or its issuer unknown. */
function isUnfetchable(step: TargetStep): boolean {
  return step.target.leaf.summary.notAfter <= step.now || step.urls.length === 0 || !step.target.issuer;
}

/** The outcome of a certificate no fetch can be made for (isUnfetchable), in that order of reasons. */
async function judgeUnfetchable(step: TargetStep): Promise<TargetOutcome> {
  const { target, ctx, base, logFields, now } = step;
  const summary = target.leaf.summary;
  // An expired certificate cannot be stapled usefully; its renewal will appear as a new file content.
  if (summary.notAfter <= now) {
    logFailure(ctx.deps.logger, 'cert.expired', new StaplerdError('CERT_EXPIRED', 'certificate has expired; skipped'), { ...logFields, notAfter: summary.notAfter });
    return makeOutcome(base, 'expired-certificate', { code: 'CERT_EXPIRED', hasGoodStaple: false });
  }
  if (step.urls.length === 0) return judgeWithoutOcspUrl(step);
  // The issuer is unknown.
  const error = target.issuerError ?? toStaplerdError(new Error('issuer unknown'), 'ISSUER_NOT_FOUND');
  const history = ctx.dryRun ? ctx.history?.get(target.key) : recordFailure(ctx, target.key, error, now, undefined);
  if (!ctx.dryRun) logTargetFailure(ctx, 'issuer.not_found', error, summary.mustStaple, logFields);
  const changedFiles = await removeUnjudgeableStaples(step);
  return makeOutcome(base, 'failed', { error, changedFiles, hasGoodStaple: false, nextActionAt: history?.nextAttemptAt });
}

/**
 * Since Let's Encrypt ended OCSP in 2025 no OCSP URL is normal: one info line, no retries. Except for a must-staple
 * certificate: clients that enforce RFC 7633 refuse it without a staple, and none can ever be fetched, so the
 * operator must hear it loudly (the certificate needs reissuing without the extension).
 */
async function judgeWithoutOcspUrl(step: TargetStep): Promise<TargetOutcome> {
  const { target, ctx, base, logFields } = step;
  const mustStaple = target.leaf.summary.mustStaple;
  const message = mustStaple
    ? 'must-staple certificate has no OCSP URL: it can never be stapled and enforcing clients will refuse it'
    : 'certificate has no OCSP URL: stapling not applicable';
  logTargetFailure(ctx, 'cert.not_applicable', new StaplerdError('NO_OCSP_URL', message), mustStaple, logFields);
  // A renewal that dropped the OCSP URL (Let's Encrypt's 2025 change) leaves the old certificate's staple behind.
  const removeFailures: StaplerdError[] = [];
  const changedFiles = await removeUnjudgeableStaples(step, removeFailures);
  // Not applicable is normal, but a stale staple left in place is what servers staple with this certificate.
  const [removeFailure] = removeFailures;
  if (removeFailure) return makeOutcome(base, 'failed', { error: removeFailure, changedFiles, hasGoodStaple: false });
  return makeOutcome(base, 'not-applicable', { code: 'NO_OCSP_URL', changedFiles, hasGoodStaple: false });
}

/** Staples of a certificate without an issuer at hand go only when provably wrong (judgeStaplesWithoutIssuer). */
async function removeUnjudgeableStaples(step: TargetStep, failures?: StaplerdError[]): Promise<string[]> {
  if (step.ctx.dryRun) return [];
  const judged = await judgeStaplesWithoutIssuer(step.target, step.ctx, step.now);
  return removeInvalidStaples(judged, step.ctx, step.logFields, failures);
}

/** `status`: what is on disk and when the certificate next wants attention; nothing fetched, written or removed. */
function evaluateOnly(step: TargetStep, existing: readonly ExistingStaple[]): TargetOutcome {
  const { target, ctx, now } = step;
  const current = newestValid(existing);
  const history = ctx.history?.get(target.key);
  const refreshAt = current ? rememberRefreshAt(ctx, target.key, current) : undefined;
  const retryAt = history && history.consecutiveFailures > 0 ? history.nextAttemptAt : undefined;
  const awaiting = history !== undefined && isAwaitingInputChange({ ...history, currentInput: describeInput(step.urls) });
  const allValid = existing.every((e) => e.valid !== undefined);
  return makeOutcome(step.base, 'evaluated', {
    staple: current,
    code: history?.lastErrorCode,
    message: history?.lastErrorMessage,
    files: describeFiles(existing, []),
    hasGoodStaple: hasGoodStaples(step, existing),
    // No planned fetch while a `retry: false` failure waits for its input to change.
    nextActionAt: awaiting ? undefined : retryAt ?? (allValid ? refreshAt : now),
  });
}

/** The refresh instant counts only when every file holds a valid staple (policy/fetch-decision.ts decides). */
function decideForTarget(step: TargetStep, existing: readonly ExistingStaple[]): FetchDecision {
  const { target, ctx, now } = step;
  const current = newestValid(existing);
  const allValid = existing.every((e) => e.valid !== undefined);
  const refreshAt = !ctx.config.force && allValid && current ? rememberRefreshAt(ctx, target.key, current) : undefined;
  return decideFetch({ now, force: ctx.config.force, refreshAt, history: ctx.history?.get(target.key), currentInput: describeInput(step.urls) });
}

function keepFresh(step: TargetStep, existing: readonly ExistingStaple[], decision: { until: Date; refreshAt: Date }): TargetOutcome {
  const current = newestValid(existing)!;
  const { logger } = step.ctx.deps;
  // One per certificate of a warm pass: at level info its fields are not even built.
  if (logger.isEnabled('debug')) logger.log('debug', 'staple.fresh', 'staple is fresh', { ...step.logFields, thisUpdate: current.thisUpdate, nextUpdate: current.nextUpdate, refreshAt: decision.refreshAt });
  const parts = { staple: current, files: describeFiles(existing, []), hasGoodStaple: hasGoodStaples(step, existing), nextActionAt: decision.until };
  // A fresh revoked staple is still a revocation: `once` must say so, not count it among the quiet "fresh".
  return current.certStatus === 'revoked' ? makeOutcome(step.base, 'revoked', { ...parts, code: 'CERT_REVOKED' }) : makeOutcome(step.base, 'fresh', parts);
}

/** A failure's backoff, or (awaitingChange) a failure time cannot heal: no fetch, but invalid staples still go. */
async function waitForRetry(step: TargetStep, existing: readonly ExistingStaple[], awaitingChange: boolean): Promise<TargetOutcome> {
  const { ctx, logFields } = step;
  const history = ctx.history!.get(step.target.key)!;
  const changedFiles = await removeInvalidStaples(existing, ctx, logFields);
  if (awaitingChange) {
    ctx.deps.logger.log('debug', 'fetch.awaiting_change', 'not retried until the certificate or its responder URLs change', { ...logFields, code: history.lastErrorCode });
  } else {
    ctx.deps.logger.log('debug', 'fetch.backoff', 'waiting before the next attempt', { ...logFields, nextAttemptAt: history.nextAttemptAt, code: history.lastErrorCode });
  }
  return makeOutcome(step.base, 'backing-off', {
    staple: newestValid(existing),
    code: history.lastErrorCode,
    message: history.lastErrorMessage,
    changedFiles,
    files: describeFiles(existing, changedFiles),
    hasGoodStaple: hasGoodStaples(step, existing),
    nextActionAt: history.nextAttemptAt,
  });
}

async function fetchAndApply(step: TargetStep, existing: readonly ExistingStaple[]): Promise<TargetOutcome> {
  const { target, ctx, now, logFields } = step;
  let fetched: { response: ValidatedResponse; source: StapleSource };
  try {
    fetched = await fetchValidatedResponse(step, newestValid(existing));
  } catch (thrown) {
    const error = toStaplerdError(thrown, 'INTERNAL', { file: step.base.certFiles[0] });
    const current = newestValid(existing);
    const failed = recordFailure(ctx, target.key, error, now, current && computeUsableUntil(current, ctx.config.minRemainingMs), describeInput(step.urls));
    logTargetFailure(ctx, 'fetch.failed', error, target.leaf.summary.mustStaple, { ...logFields, url: error.url, keptStaple: current !== undefined });
    const changedFiles = await removeInvalidStaples(existing, ctx, logFields);
    const files = describeFiles(existing, changedFiles);
    return makeOutcome(step.base, 'failed', { staple: current, error, changedFiles, files, hasGoodStaple: hasGoodStaples(step, existing), nextActionAt: failed?.nextAttemptAt });
  }
  // With --fleet the outcome says where the response came from (status, metrics); without, nothing changes.
  const base = ctx.deps.fleet ? { ...step.base, source: fetched.source } : step.base;
  const outcome = await applyResponse({ target, existing, response: fetched.response, ctx, base, logFields, now });
  if (ctx.deps.fleet && outcome.kind === 'written') rememberStapleSource(ctx, target.key, fetched.source);
  return outcome;
}

/**
 * One request (a nonce when configured), tried at each responder URL until a response validates now. With --fleet the
 * fleet is asked first (fleet/fleet-coordinator.ts): a shared response passes the same validation except the nonce,
 * which is the holder's (docs/fleet.md).
 */
async function fetchValidatedResponse(step: TargetStep, current: ValidatedResponse | undefined): Promise<{ response: ValidatedResponse; source: StapleSource }> {
  const { target, ctx } = step;
  const { config, deps } = ctx;
  const issuer = target.issuer!.issuer;
  const request = await buildOcspRequest(target.leaf, issuer, { nonce: config.nonce, randomBytes: deps.randomBytes });
  const validate = (der: Uint8Array, file: string, expectedNonce: Uint8Array | undefined): Promise<ValidatedResponse> =>
    validateOcspResponse(der, {
      issuer,
      cert: target.leaf,
      at: deps.clock.now(),
      clockSkewMs: config.clockSkewMs,
      minRemainingMs: config.minRemainingMs,
      lifetimeWithoutNextUpdateMs: config.lifetimeWithoutNextUpdateMs,
      expectedNonce,
      file,
      memos: ctx.memos,
    });
  const fetch = (): Promise<ValidatedResponse> => ctx.fetchValidated(step.urls, request.der, (der, url) => validate(der, url, request.nonce));
  if (!deps.fleet || config.force) return { response: await fetch(), source: 'fetched' };
  return deps.fleet.obtain({
    certIdRequestDer: request.nonce ? (await buildOcspRequest(target.leaf, issuer)).der : request.der,
    current,
    minRemainingMs: config.minRemainingMs,
    validateShared: (der) => validate(der, 'fleet', undefined),
    fetch,
    logFields: step.logFields,
  });
}

function hasGoodStaples(step: TargetStep, existing: readonly ExistingStaple[]): boolean {
  return allGood(existing.map((e) => e.valid), step.now, step.ctx.config.minRemainingMs);
}
