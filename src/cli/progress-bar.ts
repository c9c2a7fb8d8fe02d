// The `once` progress bar on a terminal (cli-progress); without a TTY there is none, only log lines.
// Types only here: the library is imported when stderr is a terminal (never by cron, systemd or pipes; issue 13).
import type { SingleBar } from 'cli-progress';

export interface ProgressReporter {
  update(done: number, total: number): void;
  stop(): void;
}

/** Passes shorter than this never show a bar: it would only flicker. */
const SHOW_AFTER_MS = 500;

export async function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): Promise<ProgressReporter | undefined> {
  if (!stream.isTTY) return undefined;
  const { default: cliProgress } = await import('cli-progress');
  const startedAt = Date.now();
  let bar: SingleBar | undefined;
  return {
    update(done, total) {
      if (!bar) {
        if (Date.now() - startedAt < SHOW_AFTER_MS || total === 0) return;
        bar = new cliProgress.SingleBar(
          { stream, format: 'staplerd once [{bar}] {value}/{total} certificates | {eta_formatted} left', hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done);
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      bar?.stop();
    },
  };
}
