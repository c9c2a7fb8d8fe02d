// Asks V8 to favour memory over speed in the long-running daemon, unless the operator chose otherwise.
import { setFlagsFromString } from 'node:v8';

/**
 * Why: a pass over 10,000 certificates holds about 60 MB of live data, but V8's default heap growth lets promoted
 * garbage pile up to twice that before a full collection, so `staplerd run` peaked at about 260 MB RSS.
 * `--optimize-for-size` (grow the heap less, collect sooner) brought the peak at `daemon.ready` to about 170 MiB
 * for about one second more of start-up (docs/performance.md), with no cap on the heap (a cap such as
 * --max-old-space-size would make a very large deployment crash instead).
 *
 * Set at run time, before the daemon allocates anything large: V8 reads this flag as it sizes the heap, which the
 * bench confirmed. Node refuses this flag in NODE_OPTIONS, so an operator's own choice can only come on node's
 * command line (`node --no-optimize-for-size .../main.js run`), and then wins.
 */
export function shouldPreferSmallHeap(execArgv: readonly string[]): boolean {
  return !execArgv.some((flag) => /^--(?:no-)?optimize[-_]for[-_]size$/.test(flag));
}

export function preferSmallHeap(): void {
  if (shouldPreferSmallHeap(process.execArgv)) setFlagsFromString('--optimize-for-size');
}
