// `staplerd once`: one pass, a summary on stdout, exit 0 only when every applicable certificate has a good staple.
import { resolveConfig, type RawOptions } from '../../config/index.js';
import { createLiveDependencies, createPublishState, drainHooks, isPassSuccessful, runPass } from '../../scheduler/index.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { formatPassSummary } from '../format-summary.js';

export async function runOnceCommand(input: { flags: RawOptions; configFile?: string }): Promise<number> {
  const config = await resolveConfig({ flags: input.flags, configFile: input.configFile });
  const deps = createLiveDependencies(config);
  try {
    const publishState = createPublishState();
    const report = await runPass({ config, deps, publishState });
    process.stdout.write(formatPassSummary(report));
    // Hooks (e.g. reload nginx) run before exit, so ExecStartPre/cron callers see their effect.
    await drainHooks(publishState);
    return isPassSuccessful(report) ? EXIT_OK : EXIT_FAILED;
  } finally {
    await deps.close();
  }
}
