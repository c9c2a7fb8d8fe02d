// Last step of processing a certificate: apply a validated response to its staple files and say what servers load.
import { logFailure } from '../log/index.js';
import { StaplerdError, toStaplerdError } from '../errors/index.js';
import { writeFileAtomic } from '../output/atomic-write.js';
import type { ValidatedResponse } from '../pki/types.js';
import { computeUsableUntil, isGoodAt, pickNewestStaple, shouldReplaceStapleOnDisk } from '../policy/index.js';
import type { StapleTarget } from './collect-targets.js';
import { allGood, describeFiles, newestValid, type ExistingStaple } from './judge-staples.js';
import type { StapleFileState, TargetOutcome } from './pass-types.js';
import { logTargetFailure, removeInvalidStaples, removeStaple, reportFileFailure, toRemoveFailed } from './remove-staples.js';
import type { TargetContext } from './target-context.js';
import { recordFailure, scheduleAfterAnswer, scheduleAfterWriteFailure } from './target-history.js';
import { makeOutcome, type OutcomeBase } from './target-outcome.js';

interface Applied {
  readonly changedFiles: string[];
  /** What each file holds afterwards: what was valid on disk, updated as files are written or removed. */
  readonly finalStaple: Map<string, ValidatedResponse | undefined>;
  readonly writeError?: StaplerdError;
}

/** One certificate's step (process-target.ts TargetStep) with the staples judged on disk and the response fetched. */
export interface ResponseStep {
  readonly target: StapleTarget;
  readonly existing: readonly ExistingStaple[];
  readonly response: ValidatedResponse;
  readonly ctx: TargetContext;
  readonly base: OutcomeBase;
  readonly logFields: Record<string, unknown>;
  readonly now: Date;
}

export async function applyResponse(step: ResponseStep): Promise<TargetOutcome> {
  const { target, existing, response, ctx, base, logFields, now } = step;
  const { config, deps } = ctx;
  if (response.certStatus === 'unknown') return keepAfterUnknown(step);

  const responseFields = describeResponse(response, logFields);
  const { changedFiles, finalStaple, writeError } = await writeStaples(step);
  const files: StapleFileState[] = existing.map((e) => ({
    certFile: e.file.certFile,
    stapleFile: e.file.stapleFile,
    staple: finalStaple.get(e.file.stapleFile),
    changed: changedFiles.includes(e.file.stapleFile),
  }));
  // A failed write is a failure like a failed fetch: counted and backed off, so `status` shows it and a full disk is
  // retried soon (before the staple still on disk runs out) rather than at the unwritten response's refresh instant.
  const refreshAt = writeError
    ? scheduleAfterWriteFailure(ctx, target.key, writeError, finalStaple.values(), now)
    : scheduleAfterAnswer(ctx, target.key, pickNewestStaple([response, ...finalStaple.values()])!, now);
  if (response.certStatus === 'revoked') {
    logFailure(deps.logger, 'cert.revoked', new StaplerdError('CERT_REVOKED', 'certificate is REVOKED'), { ...responseFields, revocationTime: response.revocationTime, reason: response.revocationReason });
    return makeOutcome(base, 'revoked', { staple: response, code: 'CERT_REVOKED', changedFiles, files, hasGoodStaple: false, nextActionAt: refreshAt });
  }
  if (writeError) {
    // The outcome describes what servers load now: the staples still on disk, not the response that was not written.
    // docs/cli.md: a failed refresh whose previous staple is still valid and good counts as good.
    const hasGoodStaple = allGood(files.map((f) => f.staple), now, config.minRemainingMs);
    return makeOutcome(base, 'failed', { staple: pickNewestStaple(finalStaple.values()), error: writeError, changedFiles, files, hasGoodStaple, nextActionAt: refreshAt });
  }
  const kind = changedFiles.length > 0 ? 'written' : 'unchanged';
  return makeOutcome(base, kind, { staple: response, changedFiles, files, hasGoodStaple: isGoodAt(response, now, config.minRemainingMs), nextActionAt: refreshAt });
}

/** Unknown is not a verdict: whatever valid staple there is stays until it expires (RFC 6960 2.2). */
async function keepAfterUnknown(step: ResponseStep): Promise<TargetOutcome> {
  const { target, existing, response, ctx, base, logFields, now } = step;
  const error = toStaplerdError(new Error('responder answered "unknown" for this certificate'), 'CERT_STATUS_UNKNOWN');
  const current = newestValid(existing);
  const failed = recordFailure(ctx, target.key, error, now, current && computeUsableUntil(current, ctx.config.minRemainingMs));
  logTargetFailure(ctx, 'cert.unknown', error, target.leaf.summary.mustStaple, logFields);
  const changedFiles = await removeInvalidStaples(existing, ctx, logFields);
  const hasGoodStaple = allGood(existing.map((e) => e.valid), now, ctx.config.minRemainingMs);
  return makeOutcome(base, 'unknown', { staple: response, error, changedFiles, files: describeFiles(existing, changedFiles), hasGoodStaple, nextActionAt: failed?.nextAttemptAt });
}

/** Writes the response to every file it improves on (or removes the staples of a revoked certificate, if asked). */
async function writeStaples(step: ResponseStep): Promise<Applied> {
  const { target, existing, response, ctx, logFields } = step;
  const { config, deps } = ctx;
  const responseFields = describeResponse(response, logFields);
  const changedFiles: string[] = [];
  const finalStaple = new Map<string, ValidatedResponse | undefined>(existing.map((e) => [e.file.stapleFile, e.valid]));
  const removing = response.certStatus === 'revoked' && config.onRevoked === 'remove';
  let writeError: StaplerdError | undefined;
  for (const entry of existing) {
    const path = entry.file.stapleFile;
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
      if (!shouldReplaceStapleOnDisk(entry.valid, response)) {
        deps.logger.log('info', 'staple.kept', 'fetched response is not newer than the staple on disk; kept the staple', { ...responseFields, staple: path, currentThisUpdate: entry.valid?.thisUpdate });
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
  return { changedFiles, finalStaple, writeError };
}

function describeResponse(response: ValidatedResponse, logFields: Record<string, unknown>): Record<string, unknown> {
  return { ...logFields, thisUpdate: response.thisUpdate, nextUpdate: response.nextUpdate, status: response.certStatus };
}
