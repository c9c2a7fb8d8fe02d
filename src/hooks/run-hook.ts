// Runs an operator's hook command (--on-update, --on-revoked) without a shell, with a timeout; never throws.
import { spawn } from 'node:child_process';
import { parse as parseShellWords } from 'shell-quote';
import { StaplerdError } from '../errors/index.js';

/** A hook as configured: an argv array (YAML), or a string split the way a shell splits words (command line). */
export type HookCommand = readonly string[];

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
}

const MAX_CAPTURED_STDERR = 2000;

/** How long a hook gets between SIGTERM and SIGKILL once its timeout has passed. */
const KILL_GRACE_MS = 2000;

/**
 * Runs argv with extra environment; resolves (never rejects) with what happened. A hanging hook is killed.
 *
 * The hook runs in its own process group and the whole group is signalled: `sh -c 'reload & wait'` style hooks leave
 * children behind that hold the stderr pipe open, and killing only the direct child would leave staplerd waiting on
 * them. The result is settled when the hook process exits (not when its pipes close), for the same reason.
 */
export function runHook(argv: HookCommand, options: { env: Record<string, string>; timeoutMs: number }): Promise<HookResult> {
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
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'], shell: false, detached: true });
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
    }, options.timeoutMs);
    child.on('error', (error) => done({ ok: false, code: 'HOOK_FAILED', message: `cannot run ${argv[0]}: ${error.message}`, stderr }));
    child.on('exit', (exitCode, signal) => {
      // Leftovers in the group (background jobs of a timed-out hook) go with it; a finished hook's group is left alone.
      if (timedOut) {
        signalGroup('SIGKILL');
        clearTimeout(killTimer);
      }
      // Whatever stderr is still buffered arrives within this tick; children still holding the pipe are not waited for.
      setImmediate(() => {
        child.stderr.destroy();
        if (timedOut) return done({ ok: false, code: 'HOOK_TIMEOUT', message: `${argv[0]} still running after ${options.timeoutMs} ms; killed`, exitCode, stderr });
        if (exitCode === 0) return done({ ok: true, message: `${argv[0]} succeeded`, exitCode, stderr });
        return done({ ok: false, code: 'HOOK_FAILED', message: `${argv[0]} exited with ${signal ?? exitCode}`, exitCode, stderr });
      });
    });
  });
}
