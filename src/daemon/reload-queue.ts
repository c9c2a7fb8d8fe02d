// Coalesces reload requests (SIGHUP): at most one reload runs and at most one waits behind it.
//
// Why: every SIGHUP used to queue its own reload (config read, new logger and HTTP client, watcher torn down and set
// up again, rescan): 100 HUPs in 2 s delayed a certbot renewal by 30 s, 300 kept the daemon reloading for 3 minutes.
// A reload re-reads the configuration when it starts, so any number of requests made while one runs are served by a
// single follow-up reload that sees the last edit.

export class ReloadQueue {
  private running?: Promise<void>;
  private pending = false;
  private closed = false;

  /**
   * @param reload re-reads and applies the configuration; it reports its own failures (a broken file keeps the old
   *   configuration), anything it throws anyway goes to `onError` and does not stop later reloads.
   */
  constructor(
    private readonly reload: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Asks for a reload: starts one now, or, while one runs, makes sure exactly one more follows it. */
  request(): void {
    if (this.closed) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = this.drain();
  }

  /** Starts no further reload (SIGTERM); one already running goes on, and `idle()` waits for it. */
  close(): void {
    this.closed = true;
    this.pending = false;
  }

  /** Resolves when no reload is running or waiting. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.pending = false;
        await this.runOne();
      } while (this.pending && !this.closed);
    } finally {
      this.running = undefined;
    }
  }

  private async runOne(): Promise<void> {
    try {
      await this.reload();
    } catch (error) {
      this.onError(error);
    }
  }
}
