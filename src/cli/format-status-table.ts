// Renders certificate status rows as an aligned terminal table (colour only on a TTY) or as exact JSON.
import { escapeControlCharacters, escapeJsonLine } from '../log/index.js';
import type { CertificateStatusRow, FleetHealthSummary, StapleStateName } from '../types/index.js';

const COLOURS: Readonly<Record<StapleStateName, string>> = {
  fresh: '\x1b[32m',
  due: '\x1b[33m',
  unknown: '\x1b[33m',
  missing: '\x1b[33m',
  expired: '\x1b[31m',
  revoked: '\x1b[31m',
  failing: '\x1b[31m',
  'not-applicable': '\x1b[2m',
  'expired-certificate': '\x1b[2m',
  'crl-good': '\x1b[32m',
};
const RESET = '\x1b[0m';

function formatInstant(date: Date | undefined): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

const COLUMNS: readonly { title: string; value: (row: CertificateStatusRow) => string }[] = [
  { title: 'PATH', value: (r) => r.path },
  { title: 'SUBJECT', value: (r) => r.subject || '-' },
  { title: 'SERIAL', value: (r) => r.serialHex || '-' },
  { title: 'MUST', value: (r) => (r.mustStaple ? 'yes' : 'no') },
  { title: 'OCSP URL', value: (r) => r.ocspUrl ?? 'not applicable' },
  // A verdict from a CRL says so, and its thisUpdate/nextUpdate are the CRL's (docs/revocation.md).
  { title: 'STATE', value: (r) => (r.revocationSource === 'crl' ? `${r.state} (crl)` : r.state) },
  { title: 'THIS UPDATE', value: (r) => formatInstant(r.thisUpdate ?? r.crl?.thisUpdate) },
  { title: 'NEXT UPDATE', value: (r) => formatInstant(r.nextUpdate ?? r.crl?.nextUpdate) },
  { title: 'NEXT REFRESH', value: (r) => (r.state === 'not-applicable' || r.state === 'expired-certificate' || r.state === 'crl-good' ? '-' : formatInstant(r.nextRefreshAt)) },
  { title: 'FAILS', value: (r) => String(r.consecutiveFailures) },
  { title: 'LAST ERROR', value: (r) => r.lastErrorCode ?? '-' },
];

/** With --fleet rows say where each staple came from (fetched, fleet); without, the column would be all dashes. */
const SOURCE_COLUMN = { title: 'SOURCE', value: (r: CertificateStatusRow) => r.source ?? '-' };

export function formatStatusTable(rows: readonly CertificateStatusRow[], options: { colour: boolean }): string {
  // Paths and subjects come from disk: escaped like the text log before padding (so widths count what is shown), and
  // before the only escape sequences staplerd means, the STATE colours, are added.
  const columns = rows.some((row) => row.source !== undefined) ? [...COLUMNS.slice(0, -2), SOURCE_COLUMN, ...COLUMNS.slice(-2)] : COLUMNS;
  const cells = rows.map((row) => columns.map((column) => escapeControlCharacters(column.value(row))));
  const widths = columns.map((column, index) => Math.max(column.title.length, ...cells.map((line) => line[index]!.length)));
  const render = (line: readonly string[], row?: CertificateStatusRow): string =>
    line
      .map((cell, index) => {
        const padded = index === line.length - 1 ? cell : cell.padEnd(widths[index]!);
        return options.colour && row && columns[index]!.title === 'STATE' ? `${COLOURS[row.state]}${padded}${RESET}` : padded;
      })
      .join('  ')
      .trimEnd();
  const lines = [render(columns.map((c) => c.title)), ...cells.map((line, index) => render(line, rows[index]))];
  return lines.join('\n') + '\n';
}

/** One line of fleet health (--fleet): for `status` from the daemon and after `once`. */
export function formatFleetHealth(fleet: FleetHealthSummary): string {
  const rejected = Object.values(fleet.rejected).reduce((sum, count) => sum + count, 0);
  const state = fleet.connected ? 'connected' : 'NOT connected (hosts fetch alone)';
  return `fleet: ${state}, ${fleet.leasesWon} leases won, ${fleet.sharedHits} shared hits, ${rejected} rejected shared values, ${fleet.errors} Redis errors`;
}

/** `status` without a daemon: no counters to show, only whether the fleet's Redis answered this command. */
export function formatFleetReachability(connected: boolean): string {
  return `fleet: ${connected ? 'Redis reachable' : 'Redis NOT reachable (hosts would fetch alone)'} (checked now; counters need a running daemon)`;
}

/** Exact values; DEL, C1 and bidi controls (left raw by JSON.stringify) become `\uXXXX`, which parses back the same. */
export function formatStatusJson(rows: readonly CertificateStatusRow[], meta: Record<string, unknown>): string {
  return escapeJsonLine(JSON.stringify({ ...meta, certificates: rows }, null, 2)) + '\n';
}
