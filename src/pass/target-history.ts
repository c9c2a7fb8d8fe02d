// What a pass remembers per certificate between passes: failures (backoff), refresh instants, stale answers.
import type { StaplerdError } from '../errors/index.js';
import type { ValidatedResponse } from '../pki/types.js';
import { computeNextAttempt, computeRefreshAt, computeUsableUntil, decideNextAttempt, isRefreshDue, pickNewestStaple } from '../policy/index.js';
import type { TargetHistory } from './pass-types.js';
import type { TargetContext } from './target-context.js';

type HistoryContext = Pick<TargetContext, 'config' | 'deps' | 'history'>;

/**
 * When to ask next after a valid answer. Normally the staple's refresh instant; but responders and their CDNs serve
 * one pre-generated response for hours (RFC 5019 section 6), so the answer may already be due for refresh when it
 * arrives. Asking again at once would poll the responder every second, so such stale answers back off like
 * failures (1 min doubling, capped at 1 h, never past the staple's usable end) without counting as failures.
 */
export function scheduleAfterAnswer(ctx: HistoryContext, key: string, staple: ValidatedResponse, now: Date): Date {
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
    stapleUsableUntil: computeUsableUntil(staple, ctx.config.minRemainingMs),
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
export function scheduleAfterWriteFailure(ctx: HistoryContext, key: string, error: StaplerdError, staples: Iterable<ValidatedResponse | undefined>, now: Date): Date | undefined {
  const onDisk = pickNewestStaple(staples);
  if (onDisk) rememberRefreshAt(ctx, key, onDisk);
  const usableUntil = onDisk ? computeUsableUntil(onDisk, ctx.config.minRemainingMs) : undefined;
  return recordFailure(ctx, key, error, now, usableUntil)?.nextAttemptAt;
}

/** With --fleet: where the staple just written came from, so `status` can say so until the next one. */
export function rememberStapleSource(ctx: HistoryContext, key: string, source: 'fetched' | 'fleet'): void {
  if (!ctx.history) return;
  const entry: TargetHistory = ctx.history.get(key) ?? { consecutiveFailures: 0 };
  entry.stapleSource = source;
  ctx.history.set(key, entry);
}

/** The jittered refresh instant is drawn once per staple, so repeated passes agree on it. */
export function rememberRefreshAt(ctx: HistoryContext, key: string, staple: ValidatedResponse): Date {
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
export function recordFailure(ctx: HistoryContext, key: string, error: StaplerdError, now: Date, stapleUsableUntil: Date | undefined, input?: string): TargetHistory | undefined {
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
export function describeInput(urls: readonly string[]): string {
  return urls.join(' ');
}
