// When a kept CRL is downloaded again: pure, with the instants passed in (docs/revocation.md, "When").

/** A CA revoking in bulk must be seen within hours, not half a CRL's week: a kept CRL is asked again after this. */
export const CRL_MAX_CHECK_INTERVAL_MS = 4 * 3_600_000;
/** After a failed download, the next attempt waits this long (one attempt per distribution point per pass anyway). */
export const CRL_RETRY_AFTER_FAILURE_MS = 5 * 60_000;

export interface KeptCrlTimes {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** When the server last confirmed this CRL (download or 304 Not Modified). */
  readonly checkedAt: Date;
}

export interface CrlRefreshInput {
  readonly now: Date;
  /** The last valid CRL kept for this distribution point; undefined when there is none. */
  readonly kept?: KeptCrlTimes;
  /** The last failed attempt, when it is more recent than the last success. */
  readonly failedAt?: Date;
}

/**
 * The next instant a download is due: halfway between thisUpdate and nextUpdate (CAs publish daily a CRL valid for a
 * week, so the kept one still has days to live if the server is down, as for OCSP in refresh-schedule.ts), and never
 * later than CRL_MAX_CHECK_INTERVAL_MS after the last check (conditional requests make an unchanged CRL cost a 304).
 * No kept CRL: due now. A recent failure pushes it to failedAt + CRL_RETRY_AFTER_FAILURE_MS.
 */
export function computeCrlRefreshAt(input: Omit<CrlRefreshInput, 'now'>): Date {
  const { kept, failedAt } = input;
  const retryMs = failedAt ? failedAt.getTime() + CRL_RETRY_AFTER_FAILURE_MS : -Infinity;
  if (!kept) return new Date(Number.isFinite(retryMs) ? retryMs : 0);
  const halfwayMs = kept.thisUpdate.getTime() + Math.max(0, kept.nextUpdate.getTime() - kept.thisUpdate.getTime()) / 2;
  const dueMs = Math.min(halfwayMs, kept.checkedAt.getTime() + CRL_MAX_CHECK_INTERVAL_MS);
  return new Date(Math.floor(Math.max(dueMs, retryMs)));
}

/** True when the distribution point should be asked now. */
export function isCrlRefreshDue(input: CrlRefreshInput): boolean {
  return input.now.getTime() >= computeCrlRefreshAt(input).getTime();
}

/**
 * When `run` wakes up for this distribution point: its refresh instant, but not sooner than CRL_RETRY_AFTER_FAILURE_MS
 * after the server was last asked (checked or failed). A server that keeps serving a CRL past its halfway point makes
 * the refresh instant stay in the past after every check; lookups in passes that run anyway may still ask, but a
 * timer of its own would otherwise wake the daemon every second to ask again.
 */
export function computeCrlWakeAt(input: Omit<CrlRefreshInput, 'now'>): Date {
  const lastAskedMs = Math.max(input.kept?.checkedAt.getTime() ?? -Infinity, input.failedAt?.getTime() ?? -Infinity);
  const refreshMs = computeCrlRefreshAt(input).getTime();
  return new Date(Number.isFinite(lastAskedMs) ? Math.max(refreshMs, lastAskedMs + CRL_RETRY_AFTER_FAILURE_MS) : refreshMs);
}
