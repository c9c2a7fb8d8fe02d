// `staplerd run`: a pass at start, then passes on certificate changes, on the cron sweep and when a staple falls due.
import { randomUUID } from 'node:crypto';
import type { StaplerdConfig } from '../config/index.js';
import { recodeError, StaplerdError, toStaplerdError } from '../errors/index.js';
import { logFailure, type EventLogger } from '../log/index.js';
import type { CaIssuerFetcher } from '../ocsp/index.js';
import { createValidationMemos } from '../pki/index.js';
import { buildStatusRows, createPassCaIssuerFetcher, createPublishState, drainHooks, loadPublishState, runPass, type CrlSlot, type HistoryStore, type PassDependencies, type PassReport } from '../pass/index.js';
import { describeWatchedCertificates, loadHistory, loadValidationCache, resolveStateDir, saveHistory, saveStatusSnapshot, saveValidationCache } from '../state/index.js';
import type { CertificateStatusRow } from '../types/index.js';
import type { CertificateWatcher } from './certificate-watcher.js';
import { computeDueDelayMs } from './due-delay.js';
import { PassTimers } from './pass-timers.js';
import type { MetricsEndpoint, MetricsSource } from './metrics-endpoint.js';
import { countedByMetrics, syncMetricsEndpoint } from './metrics-wiring.js';
import { StatusSocketBinding } from './status-socket-binding.js';
import { isValidCronExpression, startSweepTimer, type SweepTimer } from './sweep-timer.js';
import { watchConfiguredCertificates } from './watch-configured-certificates.js';

export interface DaemonHooks {
  /** Called after every pass (tests, status). */
  onPass?: (report: PassReport, reason: string) => void;
}

export class StapleDaemon {
  private history: HistoryStore = new Map();
  /** Every pass decodes and verifies through these; persistState saves them (src/state/validation-cache.ts). */
  private readonly memos = createValidationMemos();
  private lastRows: readonly CertificateStatusRow[] = [];
  /** Whether any pass has finished: before that /healthz cannot vouch for anything. */
  private hasPassed = false;
  private metrics?: MetricsEndpoint;
  private publishState = createPublishState();
  private caIssuers?: CaIssuerFetcher;
  /** CRLs validated by earlier passes, kept until a reload (docs/revocation.md): not re-read from the state dir per pass. */
  private crlSlot: CrlSlot = {};
  private watcher?: CertificateWatcher;
  private sweep?: SweepTimer;
  private readonly timers = new PassTimers((reason) => this.requestPass(reason));
  private running?: Promise<void>;
  private pendingReason?: string;
  private stopping = false;
  private reloads: Promise<void> = Promise.resolve();
  /** The watch and sweep are in place (start finished); until then a reload leaves them to start(). */
  private watching = false;
  private readonly abort = new AbortController();
  /** Names this run in the status snapshot and on the status socket: a reused pid is not the same daemon. */
  private readonly instanceId = randomUUID();
  private readonly statusSocket = new StatusSocketBinding(this.instanceId);

  constructor(
    private config: StaplerdConfig,
    private deps: PassDependencies,
    private readonly hooks: DaemonHooks = {},
  ) {}

  /** The certificates as of the last pass (status snapshot, metrics, /healthz). */
  get statusRows(): readonly CertificateStatusRow[] {
    return this.lastRows;
  }

  private get stateDir(): string {
    return resolveStateDir(this.config.stateDir);
  }

  get logger(): EventLogger {
    return this.deps.logger;
  }

  /** Runs the first pass while the watch is set up. Resolves when both are done. */
  async start(): Promise<void> {
    assertDaemonConfig(this.config);
    // Bound before the first pass: a port in use is a configuration error to report at once, not after a long pass.
    await this.syncMetricsEndpoint();
    try {
      await this.syncStatusSocket();
      await this.startPassesAndWatch();
    } catch (error) {
      await this.metrics?.close();
      await this.statusSocket.close();
      throw error;
    }
  }

  private async startPassesAndWatch(): Promise<void> {
    this.caIssuers = createPassCaIssuerFetcher(this.config, this.deps);
    // The backoff schedule continues across restarts: a restart during an outage does not fire a burst of requests.
    const onCorrupt = (error: StaplerdError): void => logFailure(this.deps.logger, 'state.corrupt', error);
    this.history = await loadHistory(this.stateDir, onCorrupt);
    // Signatures verified before the restart over unchanged bytes are not verified again (src/state/validation-cache.ts).
    await loadValidationCache(this.stateDir, this.memos, onCorrupt);
    // Paths an earlier run's update hook failed to deliver (src/state/undelivered-hook-paths.ts) go to the next hook.
    this.publishState = await loadPublishState(this.config, this.stateDir, onCorrupt);
    this.requestPass('start');
    const firstPass = this.running;
    // The watch is set up while the first pass runs: a certificate renewed during a long first pass brings a second
    // pass instead of waiting for the sweep. Only the first pass is awaited (passes the watch or sweep ask for must
    // not hold back "ready"); a watch that fails fails start() after it, so nothing is closed under a running pass.
    let watchedConfig = this.config;
    const [watch] = await Promise.allSettled([this.startWatching(), firstPass]);
    if (watch.status === 'rejected') throw watch.reason;
    // A SIGHUP during the first pass or while the watch was being set up (a large tree takes seconds) left the new
    // config to us (reloadNow re-watches only once `watching` is set), and so does one during this loop.
    while (this.config !== watchedConfig && !this.stopping) {
      watchedConfig = this.config;
      await this.stopWatching();
      await this.startWatching();
    }
    // SIGTERM during any of it: stop() closed the watch; no timer, no "ready".
    if (this.stopping) return;
    this.watching = true;
    this.deps.logger.log('info', 'daemon.ready', 'watching for certificate changes', { dirs: this.config.certs.join(', '), sweep: this.config.sweep });
  }

  /**
   * SIGHUP: new configuration (and logger), rescan. A bad configuration keeps the old one running. Reloads run one
   * at a time: two quick SIGHUPs overlapping in stop/start of the watcher would leak a watcher and a cron task.
   * Resolves to whether the new configuration and dependencies were taken (false once stopping: the caller then
   * still owns `deps` and must close them).
   */
  reload(config: StaplerdConfig, deps: PassDependencies): Promise<boolean> {
    const run = this.reloads.then(() => this.reloadNow(config, deps));
    this.reloads = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  private async reloadNow(config: StaplerdConfig, deps: PassDependencies): Promise<boolean> {
    assertDaemonConfig(config);
    // After SIGTERM nothing is rebound or rescanned: stop() may already have closed the listener.
    if (this.stopping) return false;
    this.config = config;
    this.deps = deps;
    this.caIssuers = createPassCaIssuerFetcher(this.config, this.deps);
    this.crlSlot = {};
    this.timers.resetFailures();
    // Before start() has its watch in place (SIGHUP during the first pass) it will start one with this new config;
    // starting one here too would leave two watchers, each triggering every pass twice.
    if (this.watching && !this.stopping) {
      await this.stopWatching();
      await this.startWatching();
    }
    try {
      await this.syncMetricsEndpoint();
    } catch (thrown) {
      // The rest of the new configuration is in force already: a port that cannot be bound only costs the metrics.
      const error = toStaplerdError(thrown, 'METRICS_LISTEN_FAILED');
      logFailure(this.deps.logger, 'metrics.rebind_failed', error, { listen: config.metrics }, { message: `${error.message}; metrics endpoint is off` });
    }
    // A new state dir: status looks for the socket there now.
    await this.syncStatusSocket();
    this.deps.logger.log('info', 'daemon.reloaded', 'configuration re-read; rescanning', { dirs: config.certs.join(', ') });
    this.requestPass('reload');
    return true;
  }

  /** SIGTERM/SIGINT: stop starting work, let in-flight certificates finish (writes complete, no temp files left). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.watching = false;
    this.abort.abort();
    this.timers.clear();
    // A reload in progress finishes first (later ones return at once), so the watcher it starts is the one closed.
    await this.reloads;
    await this.stopWatching();
    while (this.running) await this.running;
    await drainHooks(this.publishState);
    await this.metrics?.close();
    await this.statusSocket.close();
    this.deps.logger.log('info', 'daemon.stopped', 'stopped');
  }

  /** Runs a pass now, or right after the current one (several requests during a pass coalesce into one). */
  requestPass(reason: string): void {
    if (this.stopping) return;
    if (this.running) {
      this.pendingReason = reason;
      return;
    }
    this.running = this.executePass(reason).finally(() => {
      this.running = undefined;
      const next = this.pendingReason;
      this.pendingReason = undefined;
      if (next && !this.stopping) this.requestPass(next);
    });
  }

  /** Resolves when no pass is running or pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async executePass(reason: string): Promise<void> {
    this.deps.logger.log('debug', 'pass.started', `pass started (${reason})`, { reason });
    // The rows are those of this configuration even when a reload replaces it during the pass.
    const config = this.config;
    try {
      const report = await runPass({
        config,
        deps: countedByMetrics(this.metrics, () => this.deps),
        history: this.history,
        caIssuers: this.caIssuers,
        publishState: this.publishState,
        crlSlot: this.crlSlot,
        signal: this.abort.signal,
        memos: this.memos,
      });
      this.logPassSummary(report, reason);
      if (!this.stopping) this.timers.afterPass(computeDueDelayMs(report, this.deps.clock.now().getTime()));
      const now = this.deps.clock.now();
      this.lastRows = buildStatusRows(report, this.history, now);
      this.hasPassed = true;
      // The same rows `staplerd status` shows: metrics and the status snapshot never disagree.
      this.metrics?.updateCertificates(this.lastRows, now);
      await this.persistState(report, config);
      this.hooks.onPass?.(report, reason);
    } catch (thrown) {
      // A pass never takes the daemon down: the next trigger tries again.
      this.logFailedPass(toStaplerdError(thrown));
    }
  }

  /** History and the live status snapshot; a failure to save is logged, never fatal (state is an optimisation). */
  private async persistState(report: PassReport, config: StaplerdConfig): Promise<void> {
    const keys = new Set(report.outcomes.flatMap((o) => (o.key ? [o.key] : [])));
    try {
      await saveHistory(this.stateDir, this.history, keys, this.deps.clock.now());
      await saveValidationCache(this.stateDir, this.memos);
      const origin = { pid: process.pid, instanceId: this.instanceId, watched: describeWatchedCertificates(config) };
      await saveStatusSnapshot(this.stateDir, this.lastRows, origin, this.deps.clock.now(), await this.deps.fleet?.checkedHealth());
    } catch (thrown) {
      // State, not a staple: STATE_WRITE_FAILED (warn) even when the atomic write below called it WRITE_FAILED (error).
      logFailure(this.deps.logger, 'state.save_failed', recodeError(thrown, 'STATE_WRITE_FAILED', { file: this.stateDir }));
    }
  }

  private logPassSummary(report: PassReport, reason: string): void {
    const counts: Record<string, number> = {};
    for (const outcome of report.outcomes) counts[outcome.kind] = (counts[outcome.kind] ?? 0) + 1;
    this.deps.logger.log('info', 'pass.finished', `pass finished: ${report.outcomes.length} certificates`, {
      reason,
      durationMs: report.finishedAt.getTime() - report.startedAt.getTime(),
      ...counts,
    });
  }

  /** pass.failed, with the retry the error's code allows (src/daemon/pass-timers.ts): none once stopping. */
  private logFailedPass(error: StaplerdError): void {
    const retry = this.stopping ? { consecutiveFailures: 0 } : this.timers.afterFailedPass(error.code, this.deps.clock, this.deps.random);
    const next = retry.retryAt ? `retrying at ${retry.retryAt.toISOString()}` : 'no retry timer (time cannot fix this code): waiting for the next due staple, the sweep, a file change or SIGHUP';
    logFailure(this.deps.logger, 'pass.failed', error, { retryAt: retry.retryAt, consecutiveFailures: retry.consecutiveFailures }, { message: `${error.message}; ${next}` });
  }

  private async startWatching(): Promise<void> {
    // SIGTERM while the state was still loading: stop() is done or under way, and must not leave a watch behind.
    if (this.stopping) return;
    const source = { config: () => this.config, logger: () => this.deps.logger };
    this.watcher = watchConfiguredCertificates(source, () => this.requestPass('watch'));
    await this.watcher.ready;
    // stop() may have closed the watcher meanwhile: a sweep timer started now would keep the process alive.
    if (this.stopping) return;
    this.sweep = startSweepTimer(this.config.sweep, () => this.requestPass('sweep'));
  }

  private async stopWatching(): Promise<void> {
    await this.sweep?.stop();
    this.sweep = undefined;
    await this.watcher?.close();
    this.watcher = undefined;
  }

  /** The metrics listener in step with the configuration (src/daemon/metrics-wiring.ts). */
  private async syncMetricsEndpoint(): Promise<void> {
    const source: MetricsSource = {
      // Read at each request: config, deps and rows change with passes and reloads.
      rows: () => (this.hasPassed ? this.lastRows : undefined),
      healthMarginMs: () => this.config.healthMarginMs,
      clock: { now: () => this.deps.clock.now() },
      logger: () => this.deps.logger,
      fleetHealth: () => this.deps.fleet?.health(),
    };
    const started = await syncMetricsEndpoint(this.metrics, this.config.metrics, source, () => this.stopping);
    if (started) this.metrics = started;
  }

  /** The status socket in the current state dir (src/daemon/status-socket-binding.ts). */
  private async syncStatusSocket(): Promise<void> {
    await this.statusSocket.sync(this.stateDir, () => this.deps.logger, () => this.stopping);
  }
}

/** Checks only the daemon needs: `run` fails fast (exit 2) on these before any certificate is touched. */
function assertDaemonConfig(config: StaplerdConfig): void {
  if (!isValidCronExpression(config.sweep)) {
    throw new StaplerdError('CONFIG_INVALID', `sweep: "${config.sweep}" is not a valid cron expression`);
  }
}
