// The daemon's /metrics and /healthz listener: bound at start, rebound when a reload changes the address, closed at stop.
import { toStaplerdError } from '../errors/index.js';
import { logFailure, type EventLogger } from '../log/index.js';
import type { MetricsServer, StaplerdMetrics } from '../metrics/index.js';
import type { CertificateStatusRow, Clock, FetchObservation, FleetHealthSummary, StapleFileFailure } from '../types/index.js';

/** What the endpoint reads from the daemon at each request (the daemon's config and logger change on reload). */
export interface MetricsSource {
  /** The rows of the last pass, or undefined until the first pass has finished (/healthz then answers 503 starting). */
  rows(): readonly CertificateStatusRow[] | undefined;
  healthMarginMs(): number;
  readonly clock: Clock;
  logger(): EventLogger;
  /** With --fleet: the fleet's health now (the current dependencies' coordinator). */
  fleetHealth?(): FleetHealthSummary | undefined;
}

type MetricsModule = typeof import('../metrics/index.js');

export class MetricsEndpoint {
  private server?: MetricsServer;
  private listen?: string;

  private constructor(
    private readonly module: MetricsModule,
    private readonly metrics: StaplerdMetrics,
    private readonly source: MetricsSource,
  ) {}

  /** Binds `listen`; throws METRICS_LISTEN_FAILED when it cannot (in use, privileged port, not a local address). */
  static async start(listen: string, source: MetricsSource): Promise<MetricsEndpoint> {
    // Loaded only when metrics are configured: prom-client and its default collectors cost start-up time and memory.
    const module = await import('../metrics/index.js');
    // staplerd_fleet_* exist only on a daemon started with --fleet: a 0 for "not connected" would page a host alone by design.
    const fleet = source.fleetHealth?.() !== undefined ? { fleetHealth: () => source.fleetHealth?.() } : {};
    const endpoint = new MetricsEndpoint(module, module.createStaplerdMetrics(fleet), source);
    await endpoint.bind(listen);
    return endpoint;
  }

  /** The fleet series in step with the current configuration: a reload may have turned --fleet on or off. */
  syncFleet(): void {
    this.metrics.syncFleet(this.source.fleetHealth?.() !== undefined ? () => this.source.fleetHealth?.() : undefined);
  }

  observeFetch(observation: FetchObservation): void {
    this.metrics.observeFetch(observation);
  }

  observeStapleFileFailure(failure: StapleFileFailure): void {
    this.metrics.observeStapleFileFailure(failure);
  }

  updateCertificates(rows: readonly CertificateStatusRow[], now: Date): void {
    this.metrics.updateCertificates(rows, now);
  }

  /**
   * Reload: a new address closes the old listener and binds the new one; undefined closes it. When the new address
   * cannot be bound the old one is bound again, so a typo'd port never leaves the daemon unobservable; either way the
   * outcome is logged. The registry (counters included) survives, so rates do not reset on reload.
   */
  async reconfigure(listen: string | undefined): Promise<void> {
    if (listen === this.listen) return;
    // The address actually bound (the real port when 0 was asked for), so a fallback returns to the very same one.
    const previous = this.server ? new URL(this.server.url).host : undefined;
    await this.close();
    if (listen === undefined) return;
    try {
      await this.bind(listen);
    } catch (thrown) {
      // The error's own code (METRICS_LISTEN_FAILED, or CONFIG_INVALID for an address that is not local), not a fixed one.
      const error = toStaplerdError(thrown, 'METRICS_LISTEN_FAILED');
      const kept = previous !== undefined && (await this.tryBind(previous));
      const message = `${error.message}; ${kept ? `still listening on ${previous}` : 'metrics endpoint is off'}`;
      logFailure(this.source.logger(), 'metrics.rebind_failed', error, { listen }, { message });
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.listen = undefined;
    await server.close();
    this.source.logger().log('info', 'metrics.closed', `metrics endpoint ${server.url} closed`, { url: server.url });
  }

  private async tryBind(listen: string): Promise<boolean> {
    try {
      await this.bind(listen);
      return true;
    } catch {
      return false;
    }
  }

  private async bind(listen: string): Promise<void> {
    const { evaluateHealth, startingHealth, startMetricsServer } = this.module;
    const source = this.source;
    this.server = await startMetricsServer({
      listen,
      metrics: this.metrics,
      clock: source.clock,
      health: () => {
        const rows = source.rows();
        const now = source.clock.now();
        return rows === undefined ? startingHealth(now, source.healthMarginMs()) : evaluateHealth(rows, now, source.healthMarginMs());
      },
    });
    this.listen = listen;
    source.logger().log('info', 'metrics.listening', `serving ${this.server.url}/metrics and ${this.server.url}/healthz`, { url: this.server.url, listen });
  }
}
