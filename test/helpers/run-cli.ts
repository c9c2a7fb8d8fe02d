// Runs the built staplerd binary (dist/cli/main.js) as a child process, as users and systemd do.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Each run gets its own state dir unless the test passes one (env STATE_DIRECTORY or --state-dir): backoff
 *  history must not leak between tests, nor into /var/lib/staplerd on the machine. `dispose` removes it once the
 *  process has exited, so a test run leaves no directories behind in /tmp. */
export function isolateStateDir(env: NodeJS.ProcessEnv | undefined): { env: NodeJS.ProcessEnv; dispose: () => void } {
  if (env?.STATE_DIRECTORY) return { env: { STATE_DIRECTORY: env.STATE_DIRECTORY }, dispose: () => {} };
  const dir = mkdtempSync(path.join(tmpdir(), 'staplerd-state-'));
  return { env: { STATE_DIRECTORY: dir }, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The commands that resolve a state dir (src/cli/pass-options.ts declares --state-dir for exactly these). */
const STATE_DIR_COMMANDS = new Set(['once', 'run', 'status']);

/**
 * args with `--state-dir <stateDir>` added for once/run/status when the test gave none: the flag beats any
 * STATE_DIRECTORY or config file, so the isolation holds even if the environment is lost on the way (a wrapper
 * script, `env -i`). A test of the YAML `stateDir` key passes --state-dir itself.
 */
export function withStateDirArgument(args: readonly string[], stateDir: string): string[] {
  if (!STATE_DIR_COMMANDS.has(args[0] ?? '') || args.some((arg) => arg === '--state-dir' || arg.startsWith('--state-dir='))) return [...args];
  return [...args, '--state-dir', stateDir];
}

function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run "npm run build" first (npm test does)`);
}

/** Runs `staplerd <args>` to completion (killed after timeoutMs). */
export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const state = isolateStateDir(options.env);
    const child = spawn(process.execPath, [CLI_PATH, ...withStateDirArgument(args, state.env.STATE_DIRECTORY!)], {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...options.env, ...state.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      state.dispose();
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  /** Everything written to stderr (the log) so far. */
  output(): string;
  /** Resolves when the log contains `text` (or a line matching it), rejects after timeoutMs. */
  waitForLog(pattern: string | RegExp, timeoutMs?: number, fromIndex?: number): Promise<void>;
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `staplerd run <args>` in the background. */
export function startDaemon(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): DaemonProcess {
  assertBuilt();
  const state = isolateStateDir(options.env);
  const child = spawn(process.execPath, [CLI_PATH, ...withStateDirArgument(['run', ...args], state.env.STATE_DIRECTORY!)], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...options.env, ...state.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    log += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      state.dispose();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    output: () => log,
    waitForLog(pattern, timeoutMs = 15_000, fromIndex = 0) {
      const matches = (): boolean => {
        const text = log.slice(fromIndex);
        return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
      };
      return new Promise((resolve, reject) => {
        if (matches()) return resolve();
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${String(pattern)} in daemon log:\n${log}`));
        }, timeoutMs);
        const check = (): void => {
          if (!matches()) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        void exited.then(() => {
          if (!matches()) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`daemon exited while waiting for ${String(pattern)}:\n${log}`));
          }
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
