// What the two comparison sweeps (floor, easy-ocsp) share: their command line, a worker pool and a per-host limit,
// so both run with exactly staplerd's --concurrency and --per-host-concurrency.
import { readFile } from 'node:fs/promises';
import type { Manifest } from './generate-certificates.js';

export interface SweepArgs {
  readonly manifest: Manifest;
  readonly concurrency: number;
  readonly perHostConcurrency: number;
}

export interface SweepResult {
  readonly ok: number;
  readonly failed: number;
  /** The first failure, to show why a sweep did not staple everything. */
  readonly firstError?: string;
}

/** argv: <manifest.json> <concurrency> <per-host-concurrency>. */
export async function readSweepArgs(argv: readonly string[]): Promise<SweepArgs> {
  const [manifestFile, concurrency, perHost] = argv;
  if (!manifestFile || !concurrency || !perHost) throw new Error('usage: <manifest.json> <concurrency> <per-host-concurrency>');
  return {
    manifest: JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest,
    concurrency: Number(concurrency),
    perHostConcurrency: Number(perHost),
  };
}

/** Runs `task` over `items` with at most `concurrency` running; counts successes and failures instead of stopping. */
export async function runPool<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<SweepResult> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
        ok += 1;
      } catch (error) {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return firstError === undefined ? { ok, failed } : { ok, failed, firstError };
}

/** A counting semaphore: at most `limit` tasks inside at once, started in arrival order (one responder host here). */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      const wake = waiting.shift();
      // The slot passes straight to the next waiter, so `running` only drops when nobody waits.
      if (wake) wake();
      else running -= 1;
    }
  };
}

/** The leaf: the first PEM block of a fullchain-style file (easy-ocsp would glue every block's base64 together). */
export function firstPemBlock(text: string): string {
  const endMarker = '-----END CERTIFICATE-----';
  const end = text.indexOf(endMarker);
  if (end === -1) throw new Error('no PEM certificate');
  return text.slice(0, end + endMarker.length) + '\n';
}

/** The one line a sweep prints on stdout for the bench to read. */
export function printResult(result: SweepResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
