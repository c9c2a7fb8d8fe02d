// Brings one certificate's staples up to date: validate what is on disk, fetch if due, and write only what is better.
import { recodeError, StaplerdError, toStaplerdError } from '../errors/index.js';
import { logFailure } from '../log/index.js';
import { MAX_STAPLE_FILE_BYTES } from '../fs/read-regular-file.js';
import { readFileIfExists, removeFileDurable, writeFileAtomic } from '../output/atomic-write.js';
import { buildOcspRequest } from '../pki/ocsp-request.js';
import { impliedNextUpdate, inspectOcspResponse, validateOcspResponse } from '../pki/ocsp-response.js';
import { normalizeSerialHex } from '../pki/der.js';
import type { ValidatedResponse } from '../pki/types.js';
import { computeRefreshAt, isRefreshDue } from '../policy/refresh-schedule.js';
import { computeNextAttempt, decideNextAttempt, isAwaitingInputChange } from '../policy/retry-backoff.js';
import { shouldReplaceStaple } from '../policy/staple-replacement.js';
import type { StapleServer } from '../servers/index.js';
import type { StapleFileFailure } from '../types/index.js';
import type { StapleTarget, TargetFile } from './collect-targets.js';
import type { PassOptions, TargetHistory, TargetOutcome } from './pass-types.js';
import { yieldToEventLoop } from './yield-to-event-loop.js';

/** Fetches and validates: the transport tries each URL until `accept` (validation) passes. */
export type FetchValidated = (urls: readonly string[], requestDer: Uint8Array, accept: (der: Uint8Array, url: string) => Promise<ValidatedResponse>) => Promise<ValidatedResponse>;

interface ExistingStaple {
  readonly file: TargetFile;
  readonly valid?: ValidatedResponse;
  /** Why the file on disk is not usable (absent file: neither valid nor invalid). */
  readonly invalid?: StaplerdError;
}

interface Context extends PassOptions {
  readonly fetchValidated: FetchValidated;
  /** Told before a staple is removed (servers/). */
  readonly servers: readonly StapleServer[];
}

export async function processTarget(target: StapleTarget, ctx: Context): Promise<TargetOutcome> {
  await yieldToEventLoop();
  const { config, deps } = ctx;
  const now = deps.clock.now();
  const summary = target.leaf.summary;
  const base = {
    certFiles: target.files.map((f) => f.certFile),
    stapleFiles: target.files.map((f) => f.stapleFile),
    subject: summary.subject,
    serialHex: summary.serialHex,
    mustStaple: summary.mustStaple,
    key: target.key,
    ocspUrl: (config.responder ? [config.responder] : summary.ocspUrls)[0],
  };
  const logFields = { file: base.certFiles.join(', '), serial: summary.serialHex, subject: summary.subject };

  // An expired certificate cannot be stapled usefully; its renewal will appear as a new file content.
  if (summary.notAfter <= now) {
    logFailure(deps.logger, 'cert.expired', new StaplerdError('CERT_EXPIRED', 'certificate has expired; skipped'), { ...logFields, notAfter: summary.notAfter });
    return { ...base, kind: 'expired-certificate', code: 'CERT_EXPIRED', changedFiles: [], hasGoodStaple: false };
  }

  const urls = config.responder ? [config.responder] : summary.ocspUrls;
  if (urls.length === 0) {
    // Since Let's Encrypt ended OCSP in 2025 this is normal: one info line, no retries.
    // Except for a must-staple certificate: clients that enforce RFC 7633 refuse it without a staple, and none can
    // ever be fetched, so the operator must hear it loudly (the certificate needs reissuing without the extension).
    const message = summary.mustStaple
      ? 'must-staple certificate has no OCSP URL: it can never be stapled and enforcing clients will refuse it'
      : 'certificate has no OCSP URL: stapling not applicable';
    logTargetFailure(ctx, 'cert.not_applicable', new StaplerdError('NO_OCSP_URL', message), summary.mustStaple, logFields);
    // A renewal that dropped the OCSP URL (Let's Encrypt's 2025 change) leaves the old certificate's staple behind.
    const removeFailures: StaplerdError[] = [];
    const changedFiles = await removeUnjudgeableStaples(target, ctx, now, logFields, removeFailures);
    // Not applicable is normal, but a stale staple left in place is what servers staple with this certificate.
    const [removeFailure] = removeFailures;
    if (removeFailure) return { ...base, kind: 'failed', code: removeFailure.code, message: removeFailure.message, changedFiles, hasGoodStaple: false };
    return { ...base, kind: 'not-applicable', code: 'NO_OCSP_URL', changedFiles, hasGoodStaple: false };
  }

  if (!target.issuer) {
    const error = target.issuerError ?? toStaplerdError(new Error('issuer unknown'), 'ISSUER_NOT_FOUND');
    const history = ctx.dryRun ? ctx.history?.get(target.key) : recordFailure(ctx, target.key, error, now, undefined);
    if (!ctx.dryRun) logTargetFailure(ctx, 'issuer.not_found', error, summary.mustStaple, logFields);
    const changedFiles = await removeUnjudgeableStaples(target, ctx, now, logFields);
    return { ...base, kind: 'failed', code: error.code, message: error.message, changedFiles, hasGoodStaple: false, nextActionAt: history?.nextAttemptAt };
  }
  const issuer = target.issuer.issuer;
  const withIssuer = { ...base, issuerSource: target.issuer.source, issuerPem: issuer.toPem() };

  const existing = await Promise.all(target.files.map((file) => readExistingStaple(file, target, ctx, now)));
  const current = newestValid(existing);
  const history = ctx.history?.get(target.key);
  const allValid = existing.every((e) => e.valid !== undefined);

  if (ctx.dryRun) {
    const refreshAt = current ? rememberRefreshAt(ctx, target.key, current) : undefined;
    const retryAt = history && history.consecutiveFailures > 0 ? history.nextAttemptAt : undefined;
    const awaiting = history !== undefined && isAwaitingInputChange({ ...history, currentInput: describeInput(urls) });
    return {
      ...withIssuer,
      ...(current ? stapleFacts(current) : {}),
      kind: 'evaluated',
      code: history?.lastErrorCode,
      message: history?.lastErrorMessage,
      changedFiles: [],
      files: describeFiles(existing, []),
      hasGoodStaple: allGood(existing, now, config.minRemainingMs),
      // No planned fetch while a `retry: false` failure waits for its input to change.
      nextActionAt: awaiting ? undefined : retryAt ?? (allValid ? refreshAt : now),
    };
  }

  if (!config.force && allValid && current) {
    const refreshAt = rememberRefreshAt(ctx, target.key, current);
    // Due, but the responder's last answer was no newer: wait out that pause instead of asking again at once.
    const staleWaitUntil = history && history.consecutiveFailures === 0 && history.nextAttemptAt && now < history.nextAttemptAt ? history.nextAttemptAt : undefined;
    if (!isRefreshDue(refreshAt, now) || staleWaitUntil) {
      deps.logger.log('debug', 'staple.fresh', 'staple is fresh', { ...logFields, thisUpdate: current.thisUpdate, nextUpdate: current.nextUpdate, refreshAt });
      return {
        ...withIssuer,
        ...stapleFacts(current),
        // A fresh revoked staple is still a revocation: `once` must say so, not count it among the quiet "fresh".
        ...(current.certStatus === 'revoked' ? { kind: 'revoked', code: 'CERT_REVOKED' } : { kind: 'fresh' }),
        changedFiles: [],
        files: describeFiles(existing, []),
        hasGoodStaple: allGood(existing, now, config.minRemainingMs),
        nextActionAt: staleWaitUntil ?? refreshAt,
      };
    }
  }

  // A failure that time cannot heal (`retry: false` in ERROR_CODES, e.g. URL_UNSUPPORTED) waits for its input to change.
  const awaitingChange = !config.force && history !== undefined && isAwaitingInputChange({ ...history, currentInput: describeInput(urls) });
  const backingOff = !config.force && history !== undefined && history.consecutiveFailures > 0 && history.nextAttemptAt !== undefined && now < history.nextAttemptAt;
  if (history && (awaitingChange || backingOff)) {
    const changedFiles = await removeInvalidStaples(existing, ctx, logFields);
    if (awaitingChange) {
      deps.logger.log('debug', 'fetch.awaiting_change', 'not retried until the certificate or its responder URLs change', { ...logFields, code: history.lastErrorCode });
    } else {
      deps.logger.log('debug', 'fetch.backoff', 'waiting before the next attempt', { ...logFields, nextAttemptAt: history.nextAttemptAt, code: history.lastErrorCode });
    }
    return {
      ...withIssuer,
      files: describeFiles(existing, changedFiles),
      ...(current ? stapleFacts(current) : {}),
      kind: 'backing-off',
      code: history.lastErrorCode,
      message: history.lastErrorMessage,
      changedFiles,
      hasGoodStaple: allGood(existing, now, config.minRemainingMs),
      nextActionAt: history.nextAttemptAt,
    };
  }

  let response: ValidatedResponse;
  try {
    const request = await buildOcspRequest(target.leaf, issuer, { nonce: config.nonce, randomBytes: deps.randomBytes });
    response = await ctx.fetchValidated(urls, request.der, (der, url) =>
      validateOcspResponse(der, {
        issuer,
        cert: target.leaf,
        at: deps.clock.now(),
        clockSkewMs: config.clockSkewMs,
        minRemainingMs: config.minRemainingMs,
        lifetimeWithoutNextUpdateMs: config.lifetimeWithoutNextUpdateMs,
        expectedNonce: request.nonce,
        file: url,
      }),
    );
  } catch (thrown) {
    const error = toStaplerdError(thrown, 'INTERNAL', { file: base.certFiles[0] });
    const usableUntil = current ? new Date(current.nextUpdate.getTime() - config.minRemainingMs) : undefined;
    const failed = recordFailure(ctx, target.key, error, now, usableUntil, describeInput(urls));
    logTargetFailure(ctx, 'fetch.failed', error, summary.mustStaple, { ...logFields, url: error.url, keptStaple: current !== undefined });
    const changedFiles = await removeInvalidStaples(existing, ctx, logFields);
    return {
      ...withIssuer,
      files: describeFiles(existing, changedFiles),
      ...(current ? stapleFacts(current) : {}),
      kind: 'failed',
      code: error.code,
      message: error.message,
      changedFiles,
      hasGoodStaple: allGood(existing, now, config.minRemainingMs),
      nextActionAt: failed?.nextAttemptAt,
    };
  }

  return applyResponse(target, existing, response, ctx, withIssuer, logFields, now);
}

async function applyResponse(
  target: StapleTarget,
  existing: readonly ExistingStaple[],
  response: ValidatedResponse,
  ctx: Context,
  base: Pick<TargetOutcome, 'certFiles' | 'stapleFiles' | 'subject' | 'serialHex' | 'mustStaple' | 'issuerSource' | 'issuerPem'>,
  logFields: Record<string, unknown>,
  now: Date,
): Promise<TargetOutcome> {
  const { config, deps } = ctx;
  const facts = stapleFacts(response);
  const responseFields = { ...logFields, thisUpdate: response.thisUpdate, nextUpdate: response.nextUpdate, status: response.certStatus };

  if (response.certStatus === 'unknown') {
    // Unknown is not a verdict: keep whatever valid staple there is until it expires (RFC 6960 2.2).
    const error = toStaplerdError(new Error('responder answered "unknown" for this certificate'), 'CERT_STATUS_UNKNOWN');
    const usableUntil = newestValid(existing)?.nextUpdate;
    const failed = recordFailure(ctx, target.key, error, now, usableUntil && new Date(usableUntil.getTime() - config.minRemainingMs));
    logTargetFailure(ctx, 'cert.unknown', error, target.leaf.summary.mustStaple, logFields);
    const changedFiles = await removeInvalidStaples(existing, ctx, logFields);
    return {
      ...base,
      ...facts,
      kind: 'unknown',
      code: error.code,
      message: error.message,
      changedFiles,
      files: describeFiles(existing, changedFiles),
      hasGoodStaple: allGood(existing, now, config.minRemainingMs),
      nextActionAt: failed?.nextAttemptAt,
    };
  }

  const changedFiles: string[] = [];
  // What each file holds afterwards: starts as what was valid on disk, updated as files are written or removed.
  const finalStaple = new Map<string, ValidatedResponse | undefined>(existing.map((e) => [e.file.stapleFile, e.valid]));
  let writeError: StaplerdError | undefined;
  for (const entry of existing) {
    const path = entry.file.stapleFile;
    const removing = response.certStatus === 'revoked' && config.onRevoked === 'remove';
    try {
      if (removing) {
        const removed = await removeStaple(path, ctx);
        // Only now: a staple that could not be removed is still what servers load.
        finalStaple.set(path, undefined);
        if (removed) {
          changedFiles.push(path);
          deps.logger.log('warn', 'staple.removed', 'revoked certificate: staple removed (onRevoked: remove)', { ...responseFields, staple: path });
        }
        continue;
      }
      if (!isImprovement(entry.valid, response)) {
        deps.logger.log('info', 'staple.kept', 'fetched response is not newer than the staple on disk; kept the staple', {
          ...responseFields,
          staple: path,
          currentThisUpdate: entry.valid?.thisUpdate,
        });
        continue;
      }
      await writeFileAtomic(path, response.der, { mode: 0o644 });
      finalStaple.set(path, response);
      changedFiles.push(path);
      deps.logger.log('info', 'staple.written', `staple written (${response.certStatus})`, { ...responseFields, staple: path });
    } catch (thrown) {
      writeError = removing ? toRemoveFailed(thrown, path) : toStaplerdError(thrown, 'WRITE_FAILED', { file: path });
      reportFileFailure(ctx, removing ? 'remove' : 'write', writeError, target.leaf.summary.mustStaple, { ...logFields, staple: path });
    }
  }

  const files = existing.map((e) => ({
    certFile: e.file.certFile,
    stapleFile: e.file.stapleFile,
    staple: finalStaple.get(e.file.stapleFile),
    changed: changedFiles.includes(e.file.stapleFile),
  }));
  // A failed write is a failure like a failed fetch: counted and backed off, so `status` shows it and a full disk is
  // retried soon (before the staple still on disk runs out) rather than at the unwritten response's refresh instant.
  const refreshAt = writeError ? scheduleAfterWriteFailure(ctx, target.key, writeError, finalStaple.values(), now) : scheduleAfterAnswer(ctx, target.key, newestOf(response, finalStaple.values()), now);
  if (response.certStatus === 'revoked') {
    logFailure(deps.logger, 'cert.revoked', new StaplerdError('CERT_REVOKED', 'certificate is REVOKED'), { ...responseFields, revocationTime: response.revocationTime, reason: response.revocationReason });
    return { ...base, ...facts, kind: 'revoked', code: 'CERT_REVOKED', changedFiles, files, hasGoodStaple: false, nextActionAt: refreshAt };
  }
  if (writeError) {
    // The outcome describes what servers load now: the staples still on disk, not the response that was not written.
    // docs/cli.md: a failed refresh whose previous staple is still valid and good counts as good.
    const onDisk = newestStaple(finalStaple.values());
    return {
      ...base,
      ...(onDisk ? stapleFacts(onDisk) : {}),
      kind: 'failed',
      code: writeError.code,
      message: writeError.message,
      changedFiles,
      files,
      hasGoodStaple: files.every((f) => isGoodStaple(f.staple, now, config.minRemainingMs)),
      nextActionAt: refreshAt,
    };
  }
  const finalGood = response.nextUpdate.getTime() > now.getTime() + config.minRemainingMs;
  return { ...base, ...facts, kind: changedFiles.length > 0 ? 'written' : 'unchanged', changedFiles, files, hasGoodStaple: finalGood, nextActionAt: refreshAt };
}

/** A response improves on a file's staple when there is none, or it is strictly newer, or it reports a revocation the staple does not. */
function isImprovement(current: ValidatedResponse | undefined, candidate: ValidatedResponse): boolean {
  if (!current) return true;
  // A revocation must never be hidden behind a good staple, whatever the timestamps say.
  if (candidate.certStatus === 'revoked' && current.certStatus !== 'revoked') return true;
  return shouldReplaceStaple(current, candidate);
}

/** The staple file's bytes, or what made it unreadable; `{}` when there is no file. */
async function readStapleBytes(file: TargetFile): Promise<{ der?: Uint8Array; invalid?: StaplerdError }> {
  try {
    return { der: await readFileIfExists(file.stapleFile, MAX_STAPLE_FILE_BYTES) };
  } catch (error) {
    // Reading is not writing: an unreadable staple has its own code (it was WRITE_FAILED, which meant another thing).
    // A code given below (a bounded read's) is kept.
    return { invalid: toStaplerdError(error, 'STAPLE_UNREADABLE', { file: file.stapleFile }) };
  }
}

async function readExistingStaple(file: TargetFile, target: StapleTarget, ctx: Context, now: Date): Promise<ExistingStaple> {
  const { der, invalid } = await readStapleBytes(file);
  if (!der) return { file, invalid };
  try {
    // Judged against the certificate in the file now: a renewal makes the old staple invalid at once.
    // No minimum lifetime here: a staple near its end is still kept until it really expires.
    const valid = await validateOcspResponse(der, {
      issuer: target.issuer!.issuer,
      cert: target.leaf,
      at: now,
      clockSkewMs: ctx.config.clockSkewMs,
      minRemainingMs: 0,
      lifetimeWithoutNextUpdateMs: ctx.config.lifetimeWithoutNextUpdateMs,
      file: file.stapleFile,
    });
    return { file, valid };
  } catch (error) {
    return { file, invalid: toStaplerdError(error, 'RESPONSE_MALFORMED', { file: file.stapleFile }) };
  }
}

/**
 * Staples of a certificate that is not fetched for and has no issuer at hand (no OCSP URL: issuers are only resolved
 * for certificates with a responder; or the issuer was not found). Their signature cannot be checked, but a staple
 * that is unparseable, names another serial, has expired (past nextUpdate, or without one past thisUpdate +
 * lifetimeWithoutNextUpdate) is wrong whoever signed it, and servers
 * would staple it as it is: those go. Any other staple is left alone, since nothing proves it wrong.
 */
async function removeUnjudgeableStaples(target: StapleTarget, ctx: Context, now: Date, logFields: Record<string, unknown>, failures?: StaplerdError[]): Promise<string[]> {
  if (ctx.dryRun) return [];
  return removeInvalidStaples(await Promise.all(target.files.map((file) => inspectStapleWithoutIssuer(file, target, ctx, now))), ctx, logFields, failures);
}

async function inspectStapleWithoutIssuer(file: TargetFile, target: StapleTarget, ctx: Context, now: Date): Promise<ExistingStaple> {
  const { der, invalid } = await readStapleBytes(file);
  if (!der) return { file, invalid };
  const serial = normalizeSerialHex(target.leaf.summary.serialHex);
  const wrong = (code: 'RESPONSE_CERTID_MISMATCH' | 'RESPONSE_EXPIRED' | 'RESPONSE_NO_NEXT_UPDATE', message: string): ExistingStaple => ({ file, invalid: new StaplerdError(code, message, { file: file.stapleFile }) });
  try {
    const single = inspectOcspResponse(der).singles.find((s) => normalizeSerialHex(s.serialHex) === serial);
    if (!single) return wrong('RESPONSE_CERTID_MISMATCH', `staple is for another certificate, not serial ${target.leaf.summary.serialHex}`);
    // No nextUpdate: usable for lifetimeWithoutNextUpdate after thisUpdate, as when validated; past that a server
    // would staple it forever, since the file itself never expires.
    if (!single.nextUpdate) {
      if (impliedNextUpdate(single.thisUpdate, ctx.config.lifetimeWithoutNextUpdateMs) <= now) return wrong('RESPONSE_NO_NEXT_UPDATE', 'staple has no nextUpdate and is older than lifetimeWithoutNextUpdate');
    } else if (single.nextUpdate <= now) return wrong('RESPONSE_EXPIRED', 'staple has expired');
    return { file };
  } catch (error) {
    return { file, invalid: toStaplerdError(error, 'RESPONSE_MALFORMED', { file: file.stapleFile }) };
  }
}

/** Removes staples that are expired, corrupt or for another certificate: servers would staple them as they are. */
async function removeInvalidStaples(existing: readonly ExistingStaple[], ctx: Context, logFields: Record<string, unknown>, failures?: StaplerdError[]): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of existing) {
    if (!entry.invalid) continue;
    try {
      if (await removeStaple(entry.file.stapleFile, ctx)) {
        removed.push(entry.file.stapleFile);
        ctx.deps.logger.log('warn', 'staple.removed', `invalid staple removed: ${entry.invalid.message}`, { ...logFields, staple: entry.file.stapleFile, code: entry.invalid.code });
      }
    } catch (error) {
      const failure = toRemoveFailed(error, entry.file.stapleFile);
      reportFileFailure(ctx, 'remove', failure, false, { ...logFields, staple: entry.file.stapleFile });
      failures?.push(failure);
    }
  }
  return removed;
}

/**
 * Removes a staple file. Each server hears of it first (nginx switches its snippet off): a reload may come at any
 * moment (another hook, an operator), not only after the pass, and must never find a config naming a missing file.
 */
export async function removeStaple(stapleFile: string, ctx: Pick<Context, 'config' | 'deps' | 'servers'>): Promise<boolean> {
  for (const server of ctx.servers) await server.beforeRemove?.(stapleFile, { config: ctx.config, logger: ctx.deps.logger });
  return removeFileDurable(stapleFile);
}

/** Per-file end state when only invalid staples may have been removed (no new response). */
function describeFiles(existing: readonly ExistingStaple[], removed: readonly string[]): TargetOutcome['files'] {
  return existing.map((e) => ({ certFile: e.file.certFile, stapleFile: e.file.stapleFile, staple: e.valid, changed: removed.includes(e.file.stapleFile) }));
}

function newestValid(existing: readonly ExistingStaple[]): ValidatedResponse | undefined {
  return newestStaple(existing.map((entry) => entry.valid));
}

function allGood(existing: readonly ExistingStaple[], now: Date, minRemainingMs: number): boolean {
  return existing.every((e) => isGoodStaple(e.valid, now, minRemainingMs));
}

/** A staple a server can serve for a while yet: good, and more than minRemainingMs before its nextUpdate. */
function isGoodStaple(staple: ValidatedResponse | undefined, now: Date, minRemainingMs: number): boolean {
  return staple?.certStatus === 'good' && staple.nextUpdate.getTime() > now.getTime() + minRemainingMs;
}

/** The newest of some staples (files that hold none are skipped); undefined when there is none. */
function newestStaple(staples: Iterable<ValidatedResponse | undefined>): ValidatedResponse | undefined {
  let best: ValidatedResponse | undefined;
  for (const staple of staples) if (staple && (!best || shouldReplaceStaple(best, staple))) best = staple;
  return best;
}

function stapleFacts(response: ValidatedResponse): Pick<TargetOutcome, 'certStatus' | 'thisUpdate' | 'nextUpdate'> {
  return { certStatus: response.certStatus, thisUpdate: response.thisUpdate, nextUpdate: response.nextUpdate };
}

/** The newest staple among the fetched response and what the files hold afterwards: the one the schedule follows. */
function newestOf(response: ValidatedResponse, staples: Iterable<ValidatedResponse | undefined>): ValidatedResponse {
  let best = response;
  for (const staple of staples) if (staple && shouldReplaceStaple(best, staple)) best = staple;
  return best;
}

/**
 * When to ask next after a valid answer. Normally the staple's refresh instant; but responders and their CDNs serve
 * one pre-generated response for hours (RFC 5019 section 6), so the answer may already be due for refresh when it
 * arrives. Asking again at once would poll the responder every second, so such stale answers back off like
 * failures (1 min doubling, capped at 1 h, never past the staple's usable end) without counting as failures.
 */
function scheduleAfterAnswer(ctx: Context, key: string, staple: ValidatedResponse, now: Date): Date {
  // A valid answer ends a failure streak; the stale-answer count and the drawn refresh instant carry on.
  const previous = ctx.history?.get(key);
  ctx.history?.set(key, {
    consecutiveFailures: 0,
    staleAnswers: previous?.staleAnswers,
    refreshAt: previous?.refreshAt,
    refreshForThisUpdateMs: previous?.refreshForThisUpdateMs,
  });
  const refreshAt = rememberRefreshAt(ctx, key, staple);
  const entry = ctx.history?.get(key);
  if (!isRefreshDue(refreshAt, now)) {
    if (entry) {
      entry.staleAnswers = undefined;
      entry.nextAttemptAt = undefined;
    }
    return refreshAt;
  }
  const staleAnswers = (entry?.staleAnswers ?? 0) + 1;
  const nextAttemptAt = computeNextAttempt({
    now,
    consecutiveFailures: staleAnswers,
    stapleUsableUntil: new Date(staple.nextUpdate.getTime() - ctx.config.minRemainingMs),
    random: ctx.deps.random,
  });
  if (entry) {
    entry.staleAnswers = staleAnswers;
    entry.nextAttemptAt = nextAttemptAt;
  }
  ctx.deps.logger.log('debug', 'fetch.stale_answer', 'responder answered with a response already due for refresh; asking again later', { nextAttemptAt, staleAnswers });
  return nextAttemptAt;
}

/**
 * After a valid answer that could not be written to every file: the failure is recorded (the streak goes on, so a
 * disk that stays full backs off further each pass), and the retry comes no later than the end of the staple still
 * on disk. Returns when to try again.
 */
function scheduleAfterWriteFailure(ctx: Context, key: string, error: StaplerdError, staples: Iterable<ValidatedResponse | undefined>, now: Date): Date | undefined {
  const onDisk = newestStaple(staples);
  if (onDisk) rememberRefreshAt(ctx, key, onDisk);
  const usableUntil = onDisk ? new Date(onDisk.nextUpdate.getTime() - ctx.config.minRemainingMs) : undefined;
  return recordFailure(ctx, key, error, now, usableUntil)?.nextAttemptAt;
}

/** The jittered refresh instant is drawn once per staple, so repeated passes agree on it. */
function rememberRefreshAt(ctx: Context, key: string, staple: ValidatedResponse): Date {
  const history = ctx.history?.get(key);
  if (history?.refreshAt && history.refreshForThisUpdateMs === staple.thisUpdate.getTime()) return history.refreshAt;
  const refreshAt = computeRefreshAt(staple, { minRemainingMs: ctx.config.minRemainingMs, random: ctx.deps.random });
  if (ctx.history) {
    const entry: TargetHistory = history ?? { consecutiveFailures: 0 };
    entry.refreshAt = refreshAt;
    entry.refreshForThisUpdateMs = staple.thisUpdate.getTime();
    ctx.history.set(key, entry);
  }
  return refreshAt;
}

/** Records a failure; its code's `retry` column decides between a backoff instant and waiting for `input` to change. */
function recordFailure(ctx: Context, key: string, error: StaplerdError, now: Date, stapleUsableUntil: Date | undefined, input?: string): TargetHistory | undefined {
  const previous = ctx.history?.get(key);
  const consecutiveFailures = (previous?.consecutiveFailures ?? 0) + 1;
  const nextAttemptAt = decideNextAttempt({
    code: error.code,
    now,
    consecutiveFailures,
    retryAfterSeconds: error.retryAfterSeconds,
    stapleUsableUntil,
    random: ctx.deps.random,
  });
  const failedInput = nextAttemptAt === undefined ? input : undefined;
  const entry: TargetHistory = { ...previous, consecutiveFailures, nextAttemptAt, failedInput, lastErrorCode: error.code, lastErrorMessage: error.message };
  ctx.history?.set(key, entry);
  return entry;
}

/** What a `retry: false` failure is remembered against: the responder URLs asked (the certificate is the key). */
function describeInput(urls: readonly string[]): string {
  return urls.join(' ');
}

/** The level comes from the code's row in ERROR_CODES; must-staple certificates raise every failure to error. */
function logTargetFailure(ctx: Context, event: string, error: StaplerdError, mustStaple: boolean, fields: Record<string, unknown>): void {
  logFailure(ctx.deps.logger, event, error, fields, { mustStaple });
}

/** A removal that failed, with its own code: the file left behind is one servers must not staple. */
function toRemoveFailed(error: unknown, stapleFile: string): StaplerdError {
  const message = error instanceof Error ? error.message : String(error);
  return new StaplerdError('REMOVE_FAILED', `staple that must go could not be removed, servers may still serve it: ${message}`, { file: stapleFile }, { cause: error });
}

/** A staple file that could not be written or removed: logged, and counted by the metrics (daemon) by code. */
function reportFileFailure(ctx: Context, operation: StapleFileFailure['operation'], error: StaplerdError, mustStaple: boolean, fields: Record<string, unknown>): void {
  logTargetFailure(ctx, operation === 'write' ? 'staple.write_failed' : 'staple.remove_failed', error, mustStaple, fields);
  ctx.deps.observeStapleFileFailure?.({ operation, code: error.code });
}
