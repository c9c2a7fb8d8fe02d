// `staplerd status`: one row per certificate, from the running daemon's live view or, without one, from the files.
import { resolveConfig, type RawOptions } from '../../config/index.js';
import { silentLogger } from '../../log/index.js';
import { buildStatusRows, createLiveDependencies, runPass } from '../../scheduler/index.js';
import { isProcessAlive, loadHistory, readStatusSnapshot, resolveStateDir } from '../../state/index.js';
import type { CertificateStatusRow } from '../../types/index.js';
import { EXIT_OK } from '../exit-codes.js';
import { formatStatusJson, formatStatusTable } from '../format-status-table.js';

export async function runStatusCommand(input: { flags: RawOptions; configFile?: string; json: boolean }): Promise<number> {
  const config = await resolveConfig({ flags: input.flags, configFile: input.configFile });
  const stateDir = resolveStateDir(config.stateDir);
  const now = new Date();

  let rows: readonly CertificateStatusRow[];
  let meta: Record<string, unknown>;
  const snapshot = await readStatusSnapshot(stateDir);
  if (snapshot && snapshot.pid !== process.pid && isProcessAlive(snapshot.pid)) {
    // The daemon is running: its view includes live schedule and failure counts.
    rows = snapshot.certificates;
    meta = { generatedAt: now.toISOString(), source: 'daemon', daemonPid: snapshot.pid, daemonUpdatedAt: snapshot.updatedAt, stateDir };
  } else {
    // No daemon: judge the files on disk with the saved history, without fetching or writing anything.
    const history = await loadHistory(stateDir, () => {});
    const deps = createLiveDependencies(config, { logger: silentLogger });
    try {
      // Without a remembered refresh instant, show the un-jittered halfway point, so repeated runs print the same rows.
      const report = await runPass({ config, deps: { ...deps, random: () => 0.5 }, history, dryRun: true });
      rows = buildStatusRows(report, history, now);
    } finally {
      await deps.close();
    }
    meta = { generatedAt: now.toISOString(), source: 'files', stateDir };
  }

  if (input.json) {
    process.stdout.write(formatStatusJson(rows, meta));
  } else {
    const header = meta.source === 'daemon' ? `live view of staplerd (pid ${String(meta.daemonPid)}), updated ${String(meta.daemonUpdatedAt)}` : 'from the files on disk (no daemon running)';
    process.stdout.write(`${rows.length} certificates, ${header}\n`);
    if (rows.length > 0) process.stdout.write(formatStatusTable(rows, { colour: process.stdout.isTTY === true }));
  }
  return EXIT_OK;
}
