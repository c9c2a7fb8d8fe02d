// `staplerd run`: the daemon, with SIGTERM/SIGINT for a clean stop and SIGHUP to re-read the configuration.
import { resolveConfig, type RawOptions } from '../../config/index.js';
import { ReloadQueue, StapleDaemon } from '../../daemon/index.js';
import { toStaplerdError } from '../../errors/index.js';
import { createLiveDependencies, type LiveDependencies } from '../../pass/index.js';
import { EXIT_OK } from '../exit-codes.js';
import { preferSmallHeap } from '../prefer-small-heap.js';

export async function runDaemonCommand(input: { flags: RawOptions; configFile?: string }): Promise<number> {
  // A daemon lives for months beside the web server: memory matters more than a second of start-up.
  preferSmallHeap();
  const config = await resolveConfig({ flags: input.flags, configFile: input.configFile });
  let deps: LiveDependencies = createLiveDependencies(config);
  const daemon = new StapleDaemon(config, deps);
  deps.logger.log('info', 'daemon.starting', 'staplerd starting', { pid: process.pid, dirs: config.certs.join(', ') });

  let stopRequested: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (stopRequested = resolve));
  /** Old loggers and HTTP clients still closing: a pass that started before a reload may still be using them. */
  const retiring = new Set<Promise<void>>();
  const reloads = new ReloadQueue(
    async () => {
      // Read now, not when the HUP arrived: the follow-up reload of a storm sees the last edit.
      const next = await resolveConfig({ flags: input.flags, configFile: input.configFile });
      const nextDeps = createLiveDependencies(next);
      let taken: boolean;
      try {
        taken = await daemon.reload(next, nextDeps);
      } catch (error) {
        // Refused by the daemon (e.g. a cron node-cron rejects): the running logger and HTTP client stay in charge.
        await nextDeps.close();
        throw error;
      }
      // SIGTERM came first: the daemon applied nothing and keeps its logger and HTTP client.
      if (!taken) {
        await nextDeps.close();
        return;
      }
      const old = deps;
      deps = nextDeps;
      retireWhenIdle(daemon, old, retiring);
    },
    (error) => {
      // A broken configuration on reload keeps the running one: the daemon must not die from an edit.
      const err = toStaplerdError(error);
      deps.logger.log('error', 'daemon.reload_failed', `configuration not reloaded: ${err.message}`, { code: err.code, file: err.file });
    },
  );
  const onStop = (signal: NodeJS.Signals): void => {
    reloads.close();
    stopRequested(signal);
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  // A SIGHUP storm (a loop of `systemctl reload`, a config-management run) costs at most one reload running and one
  // waiting: each reload tears down and sets up the watch and rescans everything (issue finding 11).
  process.on('SIGHUP', () => reloads.request());

  // SIGTERM may come while the first pass still runs (a long pass, a hanging responder): stop then, not after it,
  // or systemd's TimeoutStopSec ends in SIGKILL. stop() lets in-flight certificates finish and starts no new ones.
  let startError: unknown;
  const started = daemon.start().then(
    () => undefined,
    (error: unknown) => {
      startError = error ?? new Error('start failed');
    },
  );
  const early = await Promise.race([stopped, started]);
  if (startError !== undefined) {
    reloads.close();
    await reloads.idle();
    await deps.close();
    throw startError;
  }
  const signal = early ?? (await stopped);
  deps.logger.log('info', 'daemon.stopping', `received ${signal}; finishing in-flight work`, { signal });
  await daemon.stop();
  await started;
  await reloads.idle();
  await Promise.all(retiring);
  await deps.close();
  return EXIT_OK;
}

/**
 * A pass that started before the reload still logs and fetches through the old logger and HTTP client: close them
 * only once it is over ("write after end" otherwise). Not awaited here: a long pass must not hold back the next reload.
 */
function retireWhenIdle(daemon: StapleDaemon, old: LiveDependencies, retiring: Set<Promise<void>>): void {
  const closing: Promise<void> = daemon
    .idle()
    .then(() => old.close())
    .catch(() => {})
    .finally(() => retiring.delete(closing));
  retiring.add(closing);
}
