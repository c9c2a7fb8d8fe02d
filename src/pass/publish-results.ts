// After a pass: each server's after-pass step (snippets, issuer files, pushes), then the operator's hooks.
import type { StaplerdConfig } from '../config/index.js';
import { recodeError, toStaplerdError, type StaplerdError } from '../errors/index.js';
import { runHook } from '../hooks/index.js';
import { logFailure } from '../log/index.js';
import { createStapleServers, type StapleServer } from '../servers/index.js';
import { loadUndeliveredHookPaths, saveUndeliveredHookPaths } from '../state/undelivered-hook-paths.js';
import type { PassDependencies, PassReport } from './pass-types.js';

/** What publishing remembers between passes (daemon lifetime). */
export interface PublishState {
  /**
   * The servers the pass tells about its staples (createStapleServers); they live as long as this state, so what
   * they remember (HAProxy's owed pushes) carries over between the daemon's passes.
   */
  readonly servers: readonly StapleServer[];
  /** Revoked certificates (by fingerprint-free key: serial + subject) whose hook already ran. */
  readonly revokedNotified: Set<string>;
  /**
   * Changed paths an update hook was due for but that never reached it (it could not start, failed or timed out):
   * handed to the next update hook, which runs for them even in a pass that changed nothing, so a reload that failed
   * is tried again and no news is lost. Loaded from and saved to the state dir through `saveUndelivered`, so they
   * outlive the process (the next `once` from cron, a restarted daemon).
   */
  readonly unreportedChanges: Set<string>;
  /** Persists `unreportedChanges` after each update hook run (state/undelivered-hook-paths.ts); none: memory only. */
  readonly saveUndelivered?: (paths: readonly string[]) => Promise<void>;
  /** Hook runs are serialised; this is the one in progress. It never rejects. */
  hookQueue: Promise<void>;
}

export interface PublishStateOptions {
  /** Paths earlier runs could not deliver (loadUndeliveredHookPaths). */
  readonly undelivered?: Iterable<string>;
  readonly saveUndelivered?: (paths: readonly string[]) => Promise<void>;
}

export function createPublishState(servers: readonly StapleServer[] = createStapleServers(), options: PublishStateOptions = {}): PublishState {
  const unreportedChanges = new Set(options.undelivered ?? []);
  return { servers, revokedNotified: new Set(), unreportedChanges, saveUndelivered: options.saveUndelivered, hookQueue: Promise.resolve() };
}

/**
 * The publish state of a `once` run or a daemon: paths an earlier run's update hook still owes (only when one is
 * configured) loaded from the state dir, and saved there after each update hook run.
 */
export async function loadPublishState(config: StaplerdConfig, stateDir: string, onCorrupt: (error: StaplerdError) => void): Promise<PublishState> {
  const undelivered = config.onUpdate ? await loadUndeliveredHookPaths(stateDir, onCorrupt) : [];
  return createPublishState(undefined, { undelivered, saveUndelivered: (paths) => saveUndeliveredHookPaths(stateDir, paths) });
}

/** Servers are told now; hooks are queued (one at a time) so a slow hook never delays staple writes. */
export async function publishPassResults(report: PassReport, config: StaplerdConfig, deps: PassDependencies, state: PublishState): Promise<void> {
  const changed = new Set<string>();
  for (const outcome of report.outcomes) for (const file of outcome.changedFiles) changed.add(file);
  const ctx = { config, logger: deps.logger, noteChanged: (path: string) => void changed.add(path) };
  for (const server of state.servers) {
    try {
      await server.afterPass?.(report.outcomes, ctx);
    } catch (thrown) {
      // Servers log their own step failures; this is a bug's last stop, so one server cannot cost the hooks.
      logFailure(deps.logger, 'server.after_pass_failed', toStaplerdError(thrown, 'INTERNAL'), { server: server.name });
    }
  }

  // Paths go to hooks as lists (a NUL-separated file plus capped line variables, hooks/hook-path-lists.ts): joined
  // into one variable, 2,000 long paths overflowed Linux's 128 KiB per-string limit (spawn E2BIG) and a directory
  // name holding a newline forged lines such as `/etc/passwd`.
  if (config.onUpdate && (changed.size > 0 || state.unreportedChanges.size > 0)) {
    // Taken when the hook starts, so changes a queued run before it could not deliver are included.
    queueHook(state, deps, config, 'update', config.onUpdate, () => {
      const paths = [...new Set([...state.unreportedChanges, ...changed])].sort();
      state.unreportedChanges.clear();
      // Only carried paths, and a hook queued just before this one already took them: nothing left to tell.
      if (paths.length === 0) return undefined;
      return {
        env: { STAPLERD_EVENT: 'update' },
        lists: { STAPLERD_CHANGED: paths },
        // A hook that ran and failed (`nginx -s reload` exiting 1, a timeout) did not make the server load the staples either.
        onFailed: () => paths.forEach((file) => state.unreportedChanges.add(file)),
        afterRun: () => saveUndelivered(state, deps),
      };
    });
  }
  if (config.onRevokedCommand) {
    const revoked = report.outcomes.filter((o) => o.kind === 'revoked');
    const fresh = revoked.filter((o) => !state.revokedNotified.has(revokedKey(o)));
    for (const o of fresh) state.revokedNotified.add(revokedKey(o));
    if (fresh.length > 0) {
      const lists = { STAPLERD_REVOKED: fresh.flatMap((o) => o.certFiles), STAPLERD_REVOKED_SERIALS: fresh.map((o) => o.serialHex ?? '') };
      queueHook(state, deps, config, 'revoked', config.onRevokedCommand, () => ({
        env: { STAPLERD_EVENT: 'revoked' },
        lists,
        // Never told: the next pass that still finds them revoked tries again.
        onFailed: (started) => {
          if (!started) fresh.forEach((o) => state.revokedNotified.delete(revokedKey(o)));
        },
      }));
    }
  }
}

function revokedKey(outcome: PassReport['outcomes'][number]): string {
  return `${outcome.serialHex}|${outcome.subject}`;
}

/** Waits for queued hooks (once exits only after they ran). */
export function drainHooks(state: PublishState): Promise<void> {
  return state.hookQueue;
}

interface HookInput {
  readonly env: Record<string, string>;
  readonly lists: Record<string, readonly string[]>;
  /** The hook did not succeed; `started` false: it never even ran. */
  readonly onFailed: (started: boolean) => void;
  readonly afterRun?: () => Promise<void>;
}

/** The state dir is an optimisation: a failed save only costs the re-delivery after a restart. */
async function saveUndelivered(state: PublishState, deps: PassDependencies): Promise<void> {
  try {
    await state.saveUndelivered?.([...state.unreportedChanges]);
  } catch (thrown) {
    logFailure(deps.logger, 'state.save_failed', recodeError(thrown, 'STATE_WRITE_FAILED'));
  }
}

function queueHook(
  state: PublishState,
  deps: PassDependencies,
  config: StaplerdConfig,
  kind: string,
  argv: readonly string[],
  prepare: () => HookInput | undefined,
): void {
  const run = async (): Promise<void> => {
    const input = prepare();
    if (!input) return;
    let result: Awaited<ReturnType<typeof runHook>>;
    try {
      result = await runHook(argv, { env: input.env, lists: input.lists, timeoutMs: config.hookTimeoutMs });
    } catch (thrown) {
      // Not even started (the queue's catch logs it): what it was to deliver stays owed.
      input.onFailed(false);
      await input.afterRun?.();
      throw thrown;
    }
    if (!result.ok) input.onFailed(result.started);
    await input.afterRun?.();
    if (result.ok) {
      deps.logger.log('info', `hook.${kind}`, result.message, { command: argv.join(' ') });
      return;
    }
    deps.logger.log('warn', `hook.${kind}_failed`, result.message, { command: argv.join(' '), code: result.code, exitCode: result.exitCode, stderr: result.stderr.trim() || undefined });
  };
  // A hook failure must never become an unhandled rejection: it would end the process before the pass's state is
  // saved, and every later hook chained on a rejected queue would be skipped.
  state.hookQueue = state.hookQueue.then(run).catch((thrown: unknown) => {
    const error = toStaplerdError(thrown, 'HOOK_FAILED');
    deps.logger.log('warn', `hook.${kind}_failed`, error.message, { command: argv.join(' '), code: error.code });
  });
}
