// When the daemon next wakes up by itself: the delay until the earliest certificate or CRL falls due, bounded both ways.
import type { PassReport } from '../pass/index.js';

/** setTimeout cannot wait longer than 2^31-1 ms; the cron sweep covers anything further out anyway. */
const MAX_TIMER_MS = 2_147_483_647;
/** Never spin: a due time in the past is retried after at least this long. */
const MIN_TIMER_MS = 1_000;

/**
 * Milliseconds from `nowMs` until the earliest staple refresh or retry in `report`, or the earliest CRL refresh
 * (`crlWakeAt`: a CRL due before the next staple is downloaded then, not at the next sweep); undefined when none is due.
 */
export function computeDueDelayMs(report: Pick<PassReport, 'outcomes' | 'crlWakeAt'>, nowMs: number): number | undefined {
  let earliest = report.crlWakeAt?.getTime();
  for (const outcome of report.outcomes) {
    const at = outcome.nextActionAt?.getTime();
    if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
  }
  if (earliest === undefined) return undefined;
  return Math.min(MAX_TIMER_MS, Math.max(MIN_TIMER_MS, earliest - nowMs));
}
