// Runs an operator's hook command (--on-update, --on-revoked) without a shell, with a timeout; never throws.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type * as ShellQuote from 'shell-quote';
import { StaplerdError } from '../errors/index.js';
import { prepareHookLists } from './hook-path-lists.js';

/** A hook as configured: an argv array (YAML), or a string split the way a shell splits words (command line). */
export type HookCommand = readonly string[];

/** shell-quote is needed only when a hook is given as a command line: parseHookCommand is synchronous, so it is
 *  required (CommonJS) there instead of imported at start by every run (issue 13). */
const requireFromHere = createRequire(import.meta.url);
function parseShellWords(text: string, env: (name: string) => string): ReturnType<typeof ShellQuote.parse> {
  return (requireFromHere('shell-quote') as typeof ShellQuote).parse(text, env);
}

/** Splits "cmd --flag 'two words'" into argv like a POSIX shell, refusing operators (|, ;, &&, >) and globs:
 *  hooks run without a shell, so those would silently mean something else. */
export function parseHookCommand(text: string, option: string): HookCommand {
  const words = parseShellWords(text, (name) => `$${name}`);
  const argv: string[] = [];
  for (const word of words) {
    if (typeof word !== 'string') {
      throw new StaplerdError('USAGE', `${option}: "${text}" uses shell syntax (operators, globs or comments); hooks run without a shell, so give a plain command or an argv list in YAML`);
    }
    argv.push(word);
  }
  if (argv.length === 0) throw new StaplerdError('USAGE', `${option}: empty command`);
  return argv;
}

export interface HookResult {
  readonly ok: boolean;
  readonly code?: 'HOOK_FAILED' | 'HOOK_TIMEOUT';
  readonly message: string;
  readonly exitCode?: number | null;
  /** Last part of the command's stderr, for the log. */
  readonly stderr: string;
  /** False when the command never ran (cannot be executed, E2BIG, list files not writable): its news is undelivered. */
  readonly started: boolean;
}

export interface HookOptions {
  readonly env: Record<string, string>;
  /**
   * Lists of paths by variable name (`STAPLERD_CHANGED`): each becomes a NUL-separated file named by `NAME_FILE`,
   * removed when the hook has exited, plus capped line variables `NAME`, `NAME_COUNT`, `NAME_OMITTED`
   * (hook-path-lists.ts).
   */
  readonly lists?: Readonly<Record<string, readonly string[]>>;
  readonly timeoutMs: number;
}

const MAX_CAPTURED_STDERR = 2000;

/** How long a hook gets between SIGTERM and SIGKILL once its timeout has passed. */
const KILL_GRACE_MS = 2000;

/** Runs argv with extra environment and its path lists; resolves (never rejects) with what happened. */
export async function runHook(argv: HookCommand, options: HookOptions): Promise<HookResult> {
  let lists: Awaited<ReturnType<typeof prepareHookLists>>;
  try {
    lists = await prepareHookLists(options.lists ?? {});
  } catch (error) {
    return { ok: false, started: false, code: 'HOOK_FAILED', message: `cannot write the path lists for ${argv[0]}: ${(error as Error).message}`, stderr: '' };
  }
  try {
    return await spawnHook(argv, { ...options.env, ...lists.env }, options.timeoutMs);
  } finally {
    // After the hook's own process exits; a child it left in the background must have copied what it needs.
    await lists.remove();
  }
}

function startHookProcess(argv: HookCommand, env: Record<string, string>) {
  return spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], shell: false, detached: true });
}

/**
 * Runs argv with extra environment; resolves (never rejects) with what happened. A hanging hook is killed.
 *
 * The hook runs in its own process group and the whole group is signalled: `sh -c 'reload & wait'` style hooks leave
 * children behind that hold the stderr pipe open, and killing only the direct child would leave staplerd waiting on
 * them. The result is settled when the hook process exits (not when its pipes close), for the same reason.
 */
function spawnHook(argv: HookCommand, env: Record<string, string>, timeoutMs: number): Promise<HookResult> {
  let child: ReturnType<typeof startHookProcess>;
  try {
    child = startHookProcess(argv, env);
  } catch (error) {
    // Node throws, rather than emitting 'error', for exec failures other than EACCES/EAGAIN/EMFILE/ENFILE/ENOENT
    // (lib/internal/child_process.js): E2BIG for an oversized environment was an uncaught exception that ended the
    // pass before its state was saved.
    return Promise.resolve({ ok: false, started: false, code: 'HOOK_FAILED', message: `cannot run ${argv[0]}: ${(error as Error).message}`, stderr: '' });
  }
  return new Promise((resolve) => {
    let stderr = '';
    let timedOut = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const done = (result: HookResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const signalGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-MAX_CAPTURED_STDERR)));
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      // A hook that ignores SIGTERM is not allowed to hold staplerd either.
      killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    }, timeoutMs);
    child.on('error', (error) => done({ ok: false, started: false, code: 'HOOK_FAILED', message: `cannot run ${argv[0]}: ${error.message}`, stderr }));
    child.on('exit', (exitCode, signal) => {
      // Leftovers in the group (background jobs of a timed-out hook) go with it; a finished hook's group is left alone.
      if (timedOut) {
        signalGroup('SIGKILL');
        clearTimeout(killTimer);
      }
      // Whatever stderr is still buffered arrives within this tick; children still holding the pipe are not waited for.
      setImmediate(() => {
        child.stderr.destroy();
        if (timedOut) return done({ ok: false, started: true, code: 'HOOK_TIMEOUT', message: `${argv[0]} still running after ${timeoutMs} ms; killed`, exitCode, stderr });
        if (exitCode === 0) return done({ ok: true, started: true, message: `${argv[0]} succeeded`, exitCode, stderr });
        return done({ ok: false, started: true, code: 'HOOK_FAILED', message: `${argv[0]} exited with ${signal ?? exitCode}`, exitCode, stderr });
      });
    });
  });
}
