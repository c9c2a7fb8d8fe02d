// After a pass: nginx snippets, HAProxy `.issuer` files and runtime pushes, and the operator's hooks.
import type { StaplerdConfig } from '../config/index.js';
import { recodeError, toStaplerdError, type ErrorCode, type StaplerdError } from '../errors/index.js';
import { parseHaproxySocket, pushOcspResponse, runHook } from '../hooks/index.js';
import { access } from 'node:fs/promises';
import { nginxSnippetPath, syncIssuerFile, syncNginxSnippet } from '../output/index.js';
import { logFailure } from '../log/index.js';
import { loadPendingPushes, resolveStateDir, updatePendingPushes } from '../state/index.js';
import type { PassDependencies, PassReport } from './pass-types.js';

/** What publishing remembers between passes (daemon lifetime). */
export interface PublishState {
  /**
   * Staple files whose HAProxy push failed: retried at the next pass even if the staple did not change. Merged with
   * the state dir's list at every pass, so a push another process (an earlier `once`) owes is delivered too.
   */
  readonly pendingPushes: Set<string>;
  /** Revoked certificates (by fingerprint-free key: serial + subject) whose hook already ran. */
  readonly revokedNotified: Set<string>;
  /**
   * Changed paths an update hook was due for but that never reached it (the command could not be started): handed to
   * the next update hook along with that pass's changes, so a transient failure loses no news (daemon lifetime).
   */
  readonly unreportedChanges: Set<string>;
  /** Hook runs are serialised; this is the one in progress. It never rejects. */
  hookQueue: Promise<void>;
}

export function createPublishState(): PublishState {
  return { pendingPushes: new Set(), revokedNotified: new Set(), unreportedChanges: new Set(), hookQueue: Promise.resolve() };
}

/** Sync files and push staples now; hooks are queued (one at a time) so a slow hook never delays staple writes. */
export async function publishPassResults(report: PassReport, config: StaplerdConfig, deps: PassDependencies, state: PublishState): Promise<void> {
  const stateDir = config.haproxySockets.length > 0 ? resolveStateDir(config.stateDir) : undefined;
  if (stateDir) for (const staple of await loadPendingPushes(stateDir)) state.pendingPushes.add(staple);
  const pendingBefore = new Set(state.pendingPushes);
  const changed = new Set<string>();
  for (const outcome of report.outcomes) for (const file of outcome.changedFiles) changed.add(file);
  // A socket that did not answer in time, or streamed more than a reply, is not asked again in this pass: a listener
  // that accepts and says nothing would otherwise hold the pass for --timeout per staple. Its pushes are owed.
  const unusableSockets = new Map<string, StaplerdError>();

  for (const outcome of report.outcomes) {
    if (config.nginxSnippets && !outcome.files) {
      // `include` of a missing file breaks nginx's reload, so every certificate gets a snippet. Without a judgement
      // on the staple (no issuer), an existing snippet is left as it is; otherwise stapling is off.
      const leaveExisting = outcome.kind === 'failed';
      for (const stapleFile of outcome.stapleFiles) {
        await guard(deps, 'nginx.snippet_failed', stapleFile, async () => {
          if (leaveExisting && (await fileExists(nginxSnippetPath(stapleFile)))) return;
          if (await syncNginxSnippet(stapleFile, undefined)) changed.add(nginxSnippetPath(stapleFile));
        });
      }
    }
    for (const file of outcome.files ?? []) {
      if (config.nginxSnippets) {
        await guard(deps, 'nginx.snippet_failed', file.stapleFile, async () => {
          if (await syncNginxSnippet(file.stapleFile, file.staple)) {
            changed.add(nginxSnippetPath(file.stapleFile));
            deps.logger.log('info', 'nginx.snippet_written', file.staple ? 'nginx snippet enables stapling' : 'nginx snippet disables stapling', { staple: file.stapleFile });
          }
        });
      }
      if (config.issuerFiles && outcome.issuerPem && outcome.issuerSource && outcome.issuerSource !== 'file') {
        await guard(deps, 'issuer_file.failed', file.certFile, async () => {
          if (await syncIssuerFile(file.certFile, outcome.issuerPem!)) {
            deps.logger.log('info', 'issuer_file.written', 'wrote <crt>.issuer for HAProxy', { file: file.certFile, source: outcome.issuerSource });
          }
        });
      }
      if (config.haproxySockets.length > 0 && file.staple && (file.changed || state.pendingPushes.has(file.stapleFile))) {
        await pushToHaproxy(file.stapleFile, file.staple.der, config, deps, state, unusableSockets);
      }
    }
  }

  const owed = [...state.pendingPushes].filter((staple) => !pendingBefore.has(staple));
  const delivered = [...pendingBefore].filter((staple) => !state.pendingPushes.has(staple));
  if (stateDir && (owed.length > 0 || delivered.length > 0)) {
    // The owed-push list is state, not a staple: its save failing is STATE_WRITE_FAILED (warn), as for the history.
    await guard(deps, 'state.save_failed', stateDir, () => updatePendingPushes(stateDir, { owed, delivered }).then(() => undefined), 'STATE_WRITE_FAILED');
  }

  // Paths go to hooks as lists (a NUL-separated file plus capped line variables, hooks/hook-path-lists.ts): joined
  // into one variable, 2,000 long paths overflowed Linux's 128 KiB per-string limit (spawn E2BIG) and a directory
  // name holding a newline forged lines such as `/etc/passwd`.
  if (config.onUpdate && changed.size > 0) {
    // Taken when the hook starts, so changes a queued run before it could not deliver are included.
    queueHook(state, deps, config, 'update', config.onUpdate, () => {
      const paths = [...new Set([...state.unreportedChanges, ...changed])].sort();
      state.unreportedChanges.clear();
      return {
        env: { STAPLERD_EVENT: 'update' },
        lists: { STAPLERD_CHANGED: paths },
        onNotStarted: () => paths.forEach((file) => state.unreportedChanges.add(file)),
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
        onNotStarted: () => fresh.forEach((o) => state.revokedNotified.delete(revokedKey(o))),
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

/** Codes after which a socket is skipped for the rest of the pass (see unusableSockets). */
const UNUSABLE_SOCKET_CODES: ReadonlySet<string> = new Set(['HAPROXY_TIMEOUT', 'HAPROXY_REPLY_TOO_LARGE']);

async function pushToHaproxy(
  stapleFile: string,
  der: Uint8Array,
  config: StaplerdConfig,
  deps: PassDependencies,
  state: PublishState,
  unusableSockets: Map<string, StaplerdError>,
): Promise<void> {
  let failed = false;
  for (const socket of config.haproxySockets) {
    const earlier = unusableSockets.get(socket);
    if (earlier) {
      failed = true;
      deps.logger.log('warn', 'haproxy.push_failed', `not pushed: the socket failed earlier in this pass (${earlier.message})`, { staple: stapleFile, socket, code: earlier.code });
      continue;
    }
    try {
      await pushOcspResponse(parseHaproxySocket(socket), der, { timeoutMs: config.timeoutMs, file: stapleFile });
      deps.logger.log('info', 'haproxy.pushed', 'staple pushed to HAProxy', { staple: stapleFile, socket });
    } catch (thrown) {
      failed = true;
      const error = toStaplerdError(thrown, 'HAPROXY_PUSH_FAILED', { file: stapleFile });
      if (UNUSABLE_SOCKET_CODES.has(error.code)) unusableSockets.set(socket, error);
      // The file is written either way: HAProxy loads it at its next start; the push is retried at the next pass.
      logFailure(deps.logger, 'haproxy.push_failed', error, { staple: stapleFile, socket });
    }
  }
  if (failed) state.pendingPushes.add(stapleFile);
  else state.pendingPushes.delete(stapleFile);
}

function queueHook(
  state: PublishState,
  deps: PassDependencies,
  config: StaplerdConfig,
  kind: string,
  argv: readonly string[],
  prepare: () => { env: Record<string, string>; lists: Record<string, readonly string[]>; onNotStarted: () => void },
): void {
  const run = async (): Promise<void> => {
    const input = prepare();
    const result = await runHook(argv, { env: input.env, lists: input.lists, timeoutMs: config.hookTimeoutMs });
    if (result.ok) {
      deps.logger.log('info', `hook.${kind}`, result.message, { command: argv.join(' ') });
      return;
    }
    if (!result.started) input.onNotStarted();
    deps.logger.log('warn', `hook.${kind}_failed`, result.message, { command: argv.join(' '), code: result.code, exitCode: result.exitCode, stderr: result.stderr.trim() || undefined });
  };
  // A hook failure must never become an unhandled rejection: it would end the process before the pass's state is
  // saved, and every later hook chained on a rejected queue would be skipped.
  state.hookQueue = state.hookQueue.then(run).catch((thrown: unknown) => {
    const error = toStaplerdError(thrown, 'HOOK_FAILED');
    deps.logger.log('warn', `hook.${kind}_failed`, error.message, { command: argv.join(' '), code: error.code });
  });
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs one publishing step and logs its failure at the level of its code. `recodeAs` names what failed when the
 * layer below cannot know it (a state save fails inside the same atomic write as a staple: WRITE_FAILED there).
 */
async function guard(deps: PassDependencies, event: string, file: string, task: () => Promise<void>, recodeAs?: ErrorCode): Promise<void> {
  try {
    await task();
  } catch (thrown) {
    const error = recodeAs ? recodeError(thrown, recodeAs, { file }) : toStaplerdError(thrown, 'WRITE_FAILED', { file });
    logFailure(deps.logger, event, error, { file });
  }
}
