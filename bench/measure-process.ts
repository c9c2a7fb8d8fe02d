// Runs one measured child process: wall time from spawn to exit seen by the parent, CPU and peak RSS reported by the
// child itself (usage-preload), and for the daemon the moment it logs daemon.ready and its memory at that moment.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ProcessUsage } from './usage-preload.js';

export interface MeasuredRun {
  readonly wallMs: number;
  readonly userCpuMs: number;
  readonly systemCpuMs: number;
  readonly maxRssKb: number;
  readonly exitCode: number | null;
  readonly stdout: string;
}

export interface MeasureOptions {
  /** Directory for the usage report and the child's captured output. */
  readonly workDir: string;
  /** Name of the output files (`<label>.stdout`, `<label>.stderr`). */
  readonly label: string;
  /** Extra node flags before the script (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[];
}

export interface DaemonStart {
  readonly readyMs: number;
  /** CPU used until ready, from /proc/<pid>/stat. */
  readonly cpuMsAtReady: number;
  /** VmRSS and VmHWM from /proc/<pid>/status right after daemon.ready. */
  readonly rssKbAtReady: number;
  readonly peakRssKbAtReady: number;
  readonly exitCode: number | null;
}

const PRELOAD = fileURLToPath(new URL('./usage-preload.js', import.meta.url));
/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat, 100 on every Linux architecture Node supports (proc(5)). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Runs `node [flags] --import usage-preload script args` to completion; stdout is kept, stderr goes to a file. */
export async function runMeasuredNode(script: string, args: readonly string[], options: MeasureOptions): Promise<MeasuredRun> {
  const usageFile = join(options.workDir, `${options.label}.usage.json`);
  const stdoutFile = join(options.workDir, `${options.label}.stdout`);
  rmSync(usageFile, { force: true });
  const stdoutFd = openSync(stdoutFile, 'w');
  const stderrFd = openSync(join(options.workDir, `${options.label}.stderr`), 'w');
  const started = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', PRELOAD, script, ...args], {
      stdio: ['ignore', stdoutFd, stderrFd],
      env: { ...process.env, BENCH_USAGE_FILE: usageFile },
    });
  } finally {
    closeSync(stdoutFd);
    closeSync(stderrFd);
  }
  const exitCode = await waitForExit(child);
  const wallMs = performance.now() - started;
  const usage = readUsage(usageFile);
  return { wallMs, userCpuMs: usage.userCpuUs / 1000, systemCpuMs: usage.systemCpuUs / 1000, maxRssKb: usage.maxRssKb, exitCode, stdout: readFileSync(stdoutFile, 'utf8') };
}

/**
 * Starts `staplerd run` (JSON logs on stderr), waits for the `daemon.ready` event, samples its memory and CPU, then
 * stops it with SIGTERM (its clean shutdown path) and waits for the exit.
 */
export async function runDaemonUntilReady(script: string, args: readonly string[], options: MeasureOptions & { timeoutMs: number }): Promise<DaemonStart> {
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = waitForExit(child);
  const lines = createInterface({ input: child.stderr! });
  const readyMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready after ${options.timeoutMs} ms`)), options.timeoutMs);
    lines.on('line', (line) => {
      if (!isReadyEvent(line)) return;
      clearTimeout(timer);
      resolve(performance.now() - started);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before daemon.ready`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  const memory = readProcStatus(child.pid!);
  const cpuMsAtReady = readProcCpuMs(child.pid!);
  child.kill('SIGTERM');
  const exitCode = await exited;
  return { readyMs, cpuMsAtReady, rssKbAtReady: memory.rssKb, peakRssKbAtReady: memory.peakRssKb, exitCode };
}

/** `--log-format json` writes one object per line with an `event` field. */
function isReadyEvent(line: string): boolean {
  if (!line.includes('daemon.ready')) return false;
  try {
    return (JSON.parse(line) as { event?: unknown }).event === 'daemon.ready';
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

function readUsage(file: string): ProcessUsage {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ProcessUsage;
  } catch (error) {
    throw new Error(`the measured process wrote no usage report (${file}): ${String(error)}`);
  }
}

/** proc(5) /proc/<pid>/status: VmRSS now, VmHWM the peak so far, both in kB. */
function readProcStatus(pid: number): { rssKb: number; peakRssKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), peakRssKb: field('VmHWM') };
}

/** proc(5) /proc/<pid>/stat fields 14 and 15 (utime, stime, in clock ticks); the name in field 2 may hold spaces. */
function readProcCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Starts `node [flags] [script args]` (no script: a bare idle `node -e`), reads its VmRSS after `afterMs`, then
 *  stops it with SIGTERM: what a small deployment sees in `ps` once the daemon has settled. */
export async function measureSettledRss(script: string | undefined, args: readonly string[], options: { afterMs: number; nodeFlags?: readonly string[] }): Promise<number> {
  const argv = script === undefined ? ['-e', 'setInterval(() => {}, 1e6)'] : [...(options.nodeFlags ?? []), script, ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'ignore'] });
  const exited = waitForExit(child);
  try {
    await new Promise((resolve) => setTimeout(resolve, options.afterMs));
    return readProcStatus(child.pid!).rssKb;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
