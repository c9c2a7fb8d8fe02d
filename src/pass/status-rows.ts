// Turns a pass's outcomes and the history into one status row per certificate (status, metrics, /healthz).
import { classifyStaple } from '../policy/staple-state.js';
import type { CertificateStatusRow, StapleStateName } from '../types/index.js';
import type { HistoryStore, PassReport, TargetOutcome } from './pass-types.js';

export function buildStatusRows(report: PassReport, history: HistoryStore | undefined, now: Date): CertificateStatusRow[] {
  return report.outcomes.map((outcome) => buildRow(outcome, outcome.key ? history?.get(outcome.key) : undefined, now));
}

function buildRow(outcome: TargetOutcome, entry: ReturnType<HistoryStore['get']>, now: Date): CertificateStatusRow {
  const consecutiveFailures = entry?.consecutiveFailures ?? (outcome.kind === 'failed' ? 1 : 0);
  return {
    path: outcome.certFiles[0] ?? '',
    certFiles: outcome.certFiles,
    stapleFiles: outcome.stapleFiles,
    subject: outcome.subject ?? '',
    serialHex: outcome.serialHex ?? '',
    mustStaple: outcome.mustStaple ?? false,
    ocspUrl: outcome.kind === 'not-applicable' ? null : (outcome.ocspUrl ?? null),
    state: stateOf(outcome, entry, consecutiveFailures, now),
    certStatus: outcome.certStatus,
    thisUpdate: outcome.thisUpdate,
    nextUpdate: outcome.nextUpdate,
    nextRefreshAt: outcome.nextActionAt,
    consecutiveFailures,
    lastErrorCode: outcome.code && outcome.kind !== 'not-applicable' && outcome.kind !== 'expired-certificate' ? outcome.code : entry?.lastErrorCode,
    lastErrorMessage: outcome.kind === 'not-applicable' ? undefined : (outcome.message ?? entry?.lastErrorMessage),
    ...(outcome.kind === 'revoked' ? { revocationSource: outcome.revocationSource ?? 'ocsp' } : {}),
    ...(outcome.crl ? { crl: outcome.crl } : {}),
    ...sourceOf(outcome, entry),
  };
}

/** With --fleet, where the staple came from: this pass's response, else the one written last (kept in history). */
function sourceOf(outcome: TargetOutcome, entry: ReturnType<HistoryStore['get']>): Pick<CertificateStatusRow, 'source'> {
  // An 'unchanged' outcome's response was not written: the staple on disk is the one the history names.
  const source = (outcome.kind === 'written' ? outcome.source : undefined) ?? entry?.stapleSource;
  return source ? { source } : {};
}

function stateOf(outcome: TargetOutcome, entry: ReturnType<HistoryStore['get']>, consecutiveFailures: number, now: Date): StapleStateName {
  if (outcome.kind === 'not-applicable') return outcome.crl?.status === 'good' ? 'crl-good' : 'not-applicable';
  if (outcome.kind === 'expired-certificate') return 'expired-certificate';
  if (outcome.kind === 'revoked' && outcome.revocationSource === 'crl') return 'revoked';
  // A file that could not even be read has neither staple nor history: it is failing.
  if (!outcome.serialHex) return 'failing';
  // The staple facts on an outcome describe what is on disk after the pass (or the response just written).
  const staple =
    outcome.certStatus && outcome.thisUpdate && outcome.nextUpdate && (outcome.hasGoodStaple || outcome.certStatus !== 'good' || outcome.files?.some((f) => f.staple))
      ? { certStatus: outcome.certStatus, thisUpdate: outcome.thisUpdate, nextUpdate: outcome.nextUpdate }
      : undefined;
  // The staple's own refresh instant, not a retry time: a good staple whose refresh keeps failing is "due".
  const refreshAt =
    entry?.refreshAt && entry.refreshForThisUpdateMs === outcome.thisUpdate?.getTime() ? entry.refreshAt : consecutiveFailures > 0 ? now : outcome.nextActionAt;
  return classifyStaple({ now, staple, refreshAt, consecutiveFailures });
}
