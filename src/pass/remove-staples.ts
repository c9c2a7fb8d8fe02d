// Removing staples servers must not serve (invalid, revoked with `onRevoked: remove`, orphaned), servers told first.
import { StaplerdError } from '../errors/index.js';
import { logFailure } from '../log/index.js';
import { removeFileDurable } from '../output/atomic-write.js';
import type { StapleFileFailure } from '../types/index.js';
import type { ExistingStaple } from './judge-staples.js';
import type { TargetContext } from './target-context.js';

/**
 * Removes a staple file. Each server hears of it first (nginx switches its snippet off): a reload may come at any
 * moment (another hook, an operator), not only after the pass, and must never find a config naming a missing file.
 */
export async function removeStaple(stapleFile: string, ctx: Pick<TargetContext, 'config' | 'deps' | 'servers'>): Promise<boolean> {
  for (const server of ctx.servers) await server.beforeRemove?.(stapleFile, { config: ctx.config, logger: ctx.deps.logger });
  return removeFileDurable(stapleFile);
}

/** Removes staples judged invalid (expired, corrupt, for another certificate): servers would staple them as they are. */
export async function removeInvalidStaples(
  existing: readonly ExistingStaple[],
  ctx: TargetContext,
  logFields: Record<string, unknown>,
  failures?: StaplerdError[],
): Promise<string[]> {
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

/** A removal that failed, with its own code: the file left behind is one servers must not staple. */
export function toRemoveFailed(error: unknown, stapleFile: string): StaplerdError {
  const message = error instanceof Error ? error.message : String(error);
  return new StaplerdError('REMOVE_FAILED', `staple that must go could not be removed, servers may still serve it: ${message}`, { file: stapleFile }, { cause: error });
}

/** The level comes from the code's row in ERROR_CODES; must-staple certificates raise every failure to error. */
export function logTargetFailure(ctx: Pick<TargetContext, 'deps'>, event: string, error: StaplerdError, mustStaple: boolean, fields: Record<string, unknown>): void {
  logFailure(ctx.deps.logger, event, error, fields, { mustStaple });
}

/** A staple file that could not be written or removed: logged, and counted by the metrics (daemon) by code. */
export function reportFileFailure(ctx: Pick<TargetContext, 'deps'>, operation: StapleFileFailure['operation'], error: StaplerdError, mustStaple: boolean, fields: Record<string, unknown>): void {
  logTargetFailure(ctx, operation === 'write' ? 'staple.write_failed' : 'staple.remove_failed', error, mustStaple, fields);
  ctx.deps.observeStapleFileFailure?.({ operation, code: error.code });
}
