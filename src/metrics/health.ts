// Pure /healthz verdict: is every staple that matters usable now, and far enough from its nextUpdate?
import { isUsableAt } from '../policy/staple-usability.js';
import type { CertificateStatusRow } from '../types/index.js';

export interface HealthProblem {
  path: string;
  subject: string;
  serialHex: string;
  mustStaple: boolean;
  /** `<keyword>: <detail>`; the keyword is one of `revoked`, `no-valid-staple`, `expiring` (stable, for jq/grep). */
  reason: string;
  nextUpdate?: string;
}

export interface HealthReport {
  healthy: boolean;
  checkedAt: string;
  marginSeconds: number;
  problems: HealthProblem[];
  /** Every row evaluated, not-applicable ones included. */
  certificates: number;
  /** Present (true) while no pass has finished yet: nothing is known about the staples, so not healthy. */
  starting?: true;
}

/**
 * 200 when every must-staple certificate has a valid staple and no staple (of any applicable certificate) is within
 * marginMs of its nextUpdate; otherwise 503 with the problems listed. Not-applicable / expired-certificate rows never
 * count. A revoked certificate is a problem. At most one problem per row: the most serious reason wins.
 */
export function evaluateHealth(rows: readonly CertificateStatusRow[], now: Date, marginMs: number): HealthReport {
  const problems: HealthProblem[] = [];
  for (const row of rows) {
    const reason = findProblem(row, now, marginMs);
    if (reason !== undefined) problems.push(describeProblem(row, reason));
  }
  return {
    healthy: problems.length === 0,
    checkedAt: now.toISOString(),
    marginSeconds: marginMs / 1000,
    problems,
    certificates: rows.length,
  };
}

/** The verdict before the first pass has finished: 503 like a readiness probe of a starting service, no problems
 *  listed because none is known yet. */
export function startingHealth(now: Date, marginMs: number): HealthReport {
  return { healthy: false, checkedAt: now.toISOString(), marginSeconds: marginMs / 1000, problems: [], certificates: 0, starting: true };
}

/** HTTP status for a report: 503 tells load balancers and Kubernetes probes "not ready" without a body parser. */
export function statusCodeForHealth(report: HealthReport): 200 | 503 {
  return report.healthy ? 200 : 503;
}

/** Whether staplerd is responsible for a staple at all: no OCSP URL (Let's Encrypt since 2025) or an expired
 *  certificate is not applicable, never a problem. */
export function isApplicable(row: CertificateStatusRow): boolean {
  return row.state !== 'not-applicable' && row.state !== 'expired-certificate' && row.state !== 'crl-good';
}

/**
 * A staple a TLS server can serve and a client accepts: status good and now before nextUpdate (RFC 6960 4.2.2.1:
 * past nextUpdate a response is unreliable). Judged against `now`, not the row's state alone, because rows are built
 * at the last pass and a fresh staple turns stale between passes. At nextUpdate itself the staple counts as expired,
 * as in policy/staple-state.ts.
 */
export function hasValidStaple(row: CertificateStatusRow, now: Date): boolean {
  if (row.state !== 'fresh' && row.state !== 'due') return false;
  if (row.certStatus !== undefined && row.certStatus !== 'good') return false;
  return row.nextUpdate !== undefined && isUsableAt({ nextUpdate: row.nextUpdate }, now);
}

function findProblem(row: CertificateStatusRow, now: Date, marginMs: number): string | undefined {
  if (!isApplicable(row)) return undefined;
  // Revocation is reported for every certificate: clients given this staple refuse the certificate (RFC 6960 2.2).
  if (row.revocationSource === 'crl') return `revoked: the certificate's CRL lists it (${row.crl?.url ?? 'crl'})`;
  if (row.state === 'revoked' || row.certStatus === 'revoked') return 'revoked: the responder says the certificate is revoked';
  // RFC 7633: a client honouring must-staple rejects the handshake without a good staple.
  if (row.mustStaple && !hasValidStaple(row, now)) return `no-valid-staple: must-staple certificate without a valid staple (${describeState(row)})`;
  if (row.nextUpdate === undefined || row.state === 'missing') return undefined;
  const remainingMs = row.nextUpdate.getTime() - now.getTime();
  if (remainingMs > marginMs) return undefined;
  return `expiring: staple ${remainingMs <= 0 ? 'expired' : 'expires'} ${formatDistance(remainingMs)}, within the ${formatDuration(marginMs)} margin`;
}

function describeState(row: CertificateStatusRow): string {
  const parts = [`state ${row.state}`];
  if (row.consecutiveFailures > 0) parts.push(`${row.consecutiveFailures} failure${row.consecutiveFailures === 1 ? '' : 's'} in a row`);
  if (row.lastErrorCode) parts.push(`last error ${row.lastErrorCode}`);
  return parts.join(', ');
}

function describeProblem(row: CertificateStatusRow, reason: string): HealthProblem {
  const problem: HealthProblem = { path: row.path, subject: row.subject, serialHex: row.serialHex, mustStaple: row.mustStaple, reason };
  if (row.nextUpdate !== undefined) problem.nextUpdate = row.nextUpdate.toISOString();
  return problem;
}

function formatDistance(remainingMs: number): string {
  return remainingMs <= 0 ? `${formatDuration(-remainingMs)} ago` : `in ${formatDuration(remainingMs)}`;
}

/** Whole seconds in the largest unit and the next one: "2h 5m", "1d", "45s". */
function formatDuration(durationMs: number): string {
  const seconds = Math.floor(durationMs / 1000);
  const units: readonly [string, number][] = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];
  const index = units.findIndex(([, size]) => seconds >= size);
  if (index < 0) return '0s';
  const [name, size] = units[index]!;
  const parts = [`${Math.floor(seconds / size)}${name}`];
  const next = units[index + 1];
  if (next && Math.floor((seconds % size) / next[1]) > 0) parts.push(`${Math.floor((seconds % size) / next[1])}${next[0]}`);
  return parts.join(' ');
}
