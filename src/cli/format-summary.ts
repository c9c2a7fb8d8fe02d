// Renders a pass report for people: one line per certificate that changed or failed, then totals.
import { escapeControlCharacters } from '../log/index.js';
import type { PassReport, TargetOutcome } from '../pass/index.js';

const QUIET_KINDS = new Set<TargetOutcome['kind']>(['fresh', 'unchanged']);

function describe(outcome: TargetOutcome): string {
  const name = outcome.subject ?? outcome.certFiles[0] ?? '?';
  const where = outcome.certFiles.join(', ');
  switch (outcome.kind) {
    case 'written':
      return `written   ${name}: ${outcome.certStatus} until ${outcome.nextUpdate?.toISOString()} -> ${outcome.changedFiles.join(', ')}`;
    case 'revoked':
      if (outcome.revocationSource === 'crl') return `REVOKED   ${name} (${where}) revoked per CRL ${outcome.crl?.url ?? ''}`;
      return `REVOKED   ${name} (${where}) revoked; ${outcome.changedFiles.length ? `staple ${outcome.changedFiles.join(', ')}` : 'no file changed'}`;
    case 'unknown':
      return `unknown   ${name} (${where}): responder does not know this certificate [${outcome.code}]`;
    case 'failed':
      return `failed    ${where}: ${outcome.code}: ${outcome.message ?? ''}${outcome.hasGoodStaple ? ' (current staple kept)' : ''}`;
    case 'backing-off':
      // No next action: the code is "retried: no" (ERROR_CODES), so only a changed input brings another attempt.
      return `waiting   ${where}: ${outcome.nextActionAt ? 'retry after backoff' : 'not retried until the certificate or its responder URLs change'} [${outcome.code ?? ''}]`;
    case 'not-applicable':
      return `n/a       ${where}: no OCSP URL (not applicable)${outcome.crl?.status === 'good' ? `; not revoked per CRL ${outcome.crl.url}` : ''}`;
    case 'expired-certificate':
      return `skipped   ${where}: certificate expired`;
    default:
      return `${outcome.kind.padEnd(9)} ${where}`;
  }
}

export function formatPassSummary(report: PassReport): string {
  const lines: string[] = [];
  for (const outcome of report.outcomes) {
    if (QUIET_KINDS.has(outcome.kind) && outcome.changedFiles.length === 0) continue;
    // File names, subjects and messages come from disk and from responders: escaped, none can clear the terminal,
    // recolour it or add a line of its own (same escaping as the text log).
    lines.push(escapeControlCharacters(describe(outcome)));
    if (outcome.kind !== 'written' && outcome.changedFiles.length > 0 && outcome.kind !== 'revoked') {
      lines.push(escapeControlCharacters(`          removed ${outcome.changedFiles.join(', ')}`));
    }
  }
  const counts = new Map<string, number>();
  for (const outcome of report.outcomes) counts.set(outcome.kind, (counts.get(outcome.kind) ?? 0) + 1);
  const order: TargetOutcome['kind'][] = ['written', 'fresh', 'unchanged', 'not-applicable', 'expired-certificate', 'backing-off', 'unknown', 'revoked', 'failed'];
  const totals = order.filter((kind) => counts.has(kind)).map((kind) => `${counts.get(kind)} ${kind}`);
  const seconds = ((report.finishedAt.getTime() - report.startedAt.getTime()) / 1000).toFixed(2);
  lines.push(`${report.outcomes.length} certificates: ${totals.join(', ') || 'none found'} (${seconds} s)`);
  return lines.join('\n') + '\n';
}
