// `staplerd status`: one row per certificate, from the running daemon's live view or, without one, from the files.
import { resolveConfig, type RawOptions } from '../../config/index.js';
import { silentLogger } from '../../log/index.js';
import { buildStatusRows, createLiveDependencies, runPass } from '../../pass/index.js';
import { askDaemon, chooseStatusSource, describeWatchedCertificates, loadHistory, readStatusSnapshot, resolveStateDir, type StatusSource } from '../../state/index.js';
import type { CertificateStatusRow } from '../../types/index.js';
import { EXIT_OK } from '../exit-codes.js';
import { formatFleetHealth, formatFleetReachability, formatStatusJson, formatStatusTable } from '../format-status-table.js';

/** A daemon answers at once; whatever keeps the socket silent longer is not one (or is too stuck to vouch for rows). */
const DAEMON_ANSWER_TIMEOUT_MS = 2_000;

export async function runStatusCommand(input: { flags: RawOptions; configFile?: string; json: boolean }): Promise<number> {
  const config = await resolveConfig({ flags: input.flags, configFile: input.configFile });
  const stateDir = resolveStateDir(config.stateDir);
  const now = new Date();

  let rows: readonly CertificateStatusRow[];
  let meta: Record<string, unknown>;
  let fleetLine: string | undefined;
  const snapshot = await readStatusSnapshot(stateDir);
  // A live pid proves nothing (pids are reused): only the daemon answering on the state dir's socket, with the
  // instance id its snapshot carries and the same certificates, vouches for the rows (issue finding 12).
  const daemon = await askDaemon(stateDir, { timeoutMs: DAEMON_ANSWER_TIMEOUT_MS });
  const chosen = chooseStatusSource({ snapshot, daemon, wanted: describeWatchedCertificates(config) });
  if (chosen.source === 'daemon' && snapshot) {
    // The daemon is running: its view includes live schedule and failure counts.
    rows = snapshot.certificates;
    meta = { generatedAt: now.toISOString(), source: 'daemon', daemonPid: snapshot.pid, daemonUpdatedAt: snapshot.updatedAt, stateDir, ...(snapshot.fleet ? { fleet: snapshot.fleet } : {}) };
  } else {
    // No daemon that vouches for these certificates: judge the files on disk with the saved history, without fetching
    // or writing anything.
    const history = await loadHistory(stateDir, () => {});
    const deps = createLiveDependencies(config, { logger: silentLogger });
    try {
      // Without a remembered refresh instant, show the un-jittered halfway point, so repeated runs print the same rows.
      const report = await runPass({ config, deps: { ...deps, random: () => 0.5 }, history, dryRun: true });
      rows = buildStatusRows(report, history, now);
      // No daemon to report the fleet's counters, but whether its Redis answers now is worth knowing before starting one.
      const fleetReachable = deps.fleet ? (await deps.fleet.checkedHealth()).connected : undefined;
      if (fleetReachable !== undefined) fleetLine = formatFleetReachability(fleetReachable);
      meta = { generatedAt: now.toISOString(), source: 'files', stateDir, ...describeFilesReason(chosen), ...(fleetReachable === undefined ? {} : { fleet: { connected: fleetReachable } }) };
    } finally {
      await deps.close();
    }
  }

  if (input.json) {
    process.stdout.write(formatStatusJson(rows, meta));
  } else {
    const header = meta.source === 'daemon' ? `live view of staplerd (pid ${String(meta.daemonPid)}), updated ${String(meta.daemonUpdatedAt)}` : `from the files on disk (${describeWhyFiles(chosen)})`;
    process.stdout.write(`${rows.length} certificates, ${header}\n`);
    if (chosen.source === 'daemon' && snapshot?.fleet) process.stdout.write(`${formatFleetHealth(snapshot.fleet)}\n`);
    if (fleetLine !== undefined) process.stdout.write(`${fleetLine}\n`);
    if (rows.length > 0) process.stdout.write(formatStatusTable(rows, { colour: process.stdout.isTTY === true }));
  }
  return EXIT_OK;
}

/** The `--json` fields saying why the files were read: `reason`, and the pid of a daemon that was not trusted. */
function describeFilesReason(chosen: StatusSource): Record<string, unknown> {
  if (chosen.source !== 'files') return {};
  return chosen.daemonPid === undefined ? { reason: chosen.reason } : { reason: chosen.reason, daemonPid: chosen.daemonPid };
}

/** The table's first line: an operator must not read "no daemon" when one runs for other certificates. */
function describeWhyFiles(chosen: StatusSource): string {
  if (chosen.source !== 'files' || chosen.reason === 'no-daemon') return 'no daemon running';
  const pid = String(chosen.daemonPid);
  if (chosen.reason === 'other-certificates') return `the daemon running on this state dir, pid ${pid}, watches other certificates`;
  return `the daemon running on this state dir, pid ${pid}, has not finished a pass yet`;
}
