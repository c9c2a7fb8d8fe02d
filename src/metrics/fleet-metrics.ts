// Fleet mode's metrics (docs/fleet.md): health read from the coordinator at each scrape, and per certificate where its
// staple came from. Registered on the daemon's private registry beside staplerd-metrics.ts.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CertificateStatusRow, FleetHealthSummary } from '../types/index.js';

export interface FleetMetrics {
  /** Per certificate, 1 on the series of the source of its staple (fetched or fleet); rows without one have none. */
  updateSources(rows: readonly CertificateStatusRow[]): void;
  /** Takes every fleet series out of the registry (a reload turned --fleet off). */
  remove(): void;
}

const FLEET_METRIC_NAMES = [
  'staplerd_staple_source',
  'staplerd_fleet_connected',
  'staplerd_fleet_leases_won_total',
  'staplerd_fleet_shared_hits_total',
  'staplerd_fleet_errors_total',
  'staplerd_fleet_rejected_total',
];

/** Counter values are the coordinator's own, set at collect time (they restart from 0 with a reload, like a restart). */
function setCounter(counter: Counter<string>, value: number, labels: Record<string, string> = {}): void {
  counter.reset();
  counter.inc(labels, value);
}

export function registerFleetMetrics(registry: Registry, health: () => FleetHealthSummary | undefined): FleetMetrics {
  const registers = [registry];
  const sources = new Gauge({ name: 'staplerd_staple_source', help: 'With --fleet: 1 on the source of each certificate\'s staple, "fetched" by this host or taken from the "fleet".', labelNames: ['path', 'serial', 'source'], registers });
  new Gauge({
    name: 'staplerd_fleet_connected',
    help: 'With --fleet: 1 while the fleet Redis answers, 0 while this host carries on alone.',
    registers,
    collect() {
      const current = health();
      if (current) this.set(current.connected ? 1 : 0);
    },
  });
  const counter = (name: string, help: string, value: (h: FleetHealthSummary) => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        const current = health();
        if (current) setCounter(this, value(current));
      },
    });
  };
  counter('staplerd_fleet_leases_won_total', 'With --fleet: leases this host won, each one fetch made for the whole fleet.', (h) => h.leasesWon);
  counter('staplerd_fleet_shared_hits_total', 'With --fleet: staples taken from the fleet after validation, with no request to the responder.', (h) => h.sharedHits);
  counter('staplerd_fleet_errors_total', 'With --fleet: Redis commands that failed or timed out (the host then fetched alone).', (h) => h.errors);
  new Counter({
    name: 'staplerd_fleet_rejected_total',
    help: 'With --fleet: shared values refused by reason (invalid, older, wrong-type, too-large); the host fetched itself.',
    labelNames: ['reason'],
    registers,
    collect() {
      const current = health();
      if (!current) return;
      this.reset();
      for (const [reason, count] of Object.entries(current.rejected)) this.inc({ reason }, count);
    },
  });
  return {
    updateSources(rows) {
      sources.reset();
      for (const row of rows) if (row.source) sources.set({ path: row.path, serial: row.serialHex, source: row.source }, 1);
    },
    remove() {
      for (const name of FLEET_METRIC_NAMES) registry.removeSingleMetric(name);
    },
  };
}
