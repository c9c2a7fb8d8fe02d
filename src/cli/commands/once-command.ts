// `staplerd once`: one pass, a summary on stdout, exit 0 only when every applicable certificate has a good staple.
import { resolveConfig, type RawOptions } from '../../config/index.js';
import { recodeError, type StaplerdError } from '../../errors/index.js';
import { logFailure } from '../../log/index.js';
import { buildStatusRows, createLiveDependencies, drainHooks, exitStatusOfPass, loadPublishState, runPass } from '../../pass/index.js';
import { createValidationMemos, type ValidationMemos } from '../../pki/index.js';
import { loadHistory, loadValidationCache, resolveStateDir, saveHistory, saveValidationCache } from '../../state/index.js';
import { formatFleetHealth, formatStatusTable } from '../format-status-table.js';
import { formatPassSummary } from '../format-summary.js';
import { createProgressReporter } from '../progress-bar.js';

export async function runOnceCommand(input: { flags: RawOptions; configFile?: string }): Promise<number> {
  const config = await resolveConfig({ flags: input.flags, configFile: input.configFile });
  const deps = createLiveDependencies(config);
  const stateDir = resolveStateDir(config.stateDir);
  const progress = await createProgressReporter();
  try {
    // Backoff history is shared with the daemon and earlier runs, so cron runs during an outage stay polite.
    const onCorrupt = (error: StaplerdError): void => logFailure(deps.logger, 'state.corrupt', error);
    const history = await loadHistory(stateDir, onCorrupt);
    // Signatures verified by earlier runs over unchanged bytes are not verified again (src/state/validation-cache.ts).
    const memos = createValidationMemos();
    await loadValidationCache(stateDir, memos, onCorrupt);
    // An earlier run's hook that failed still owes the server its reload: this run's hook is told those paths too.
    const publishState = await loadPublishState(config, stateDir, onCorrupt);
    const report = await runPass({ config, deps, publishState, history, memos, onProgress: (done, total) => progress?.update(done, total) });
    progress?.stop();
    await saveState(stateDir, history, memos, report, deps);
    process.stdout.write(formatPassSummary(report));
    if (deps.fleet) process.stdout.write(`${formatFleetHealth(await deps.fleet.checkedHealth())}\n`);
    if (process.stdout.isTTY && report.outcomes.length > 0) {
      process.stdout.write('\n' + formatStatusTable(buildStatusRows(report, history, deps.clock.now()), { colour: true }));
    }
    // Hooks (e.g. reload nginx) run before exit, so ExecStartPre/cron callers see their effect.
    await drainHooks(publishState);
    // Each certificate's status comes from its code's row in ERROR_CODES (exit column), worst one wins.
    return exitStatusOfPass(report);
  } finally {
    progress?.stop();
    await deps.close();
  }
}

async function saveState(
  stateDir: string,
  history: Parameters<typeof saveHistory>[1],
  memos: ValidationMemos,
  report: Awaited<ReturnType<typeof runPass>>,
  deps: ReturnType<typeof createLiveDependencies>,
): Promise<void> {
  try {
    await saveHistory(stateDir, history, new Set(report.outcomes.flatMap((o) => (o.key ? [o.key] : []))), deps.clock.now());
    await saveValidationCache(stateDir, memos);
  } catch (thrown) {
    // State, not a staple: STATE_WRITE_FAILED (warn) even when the atomic write below called it WRITE_FAILED (error).
    const error = recodeError(thrown, 'STATE_WRITE_FAILED', { file: stateDir });
    logFailure(deps.logger, 'state.save_failed', error, {}, { message: `state not saved: ${error.message}` });
  }
}
