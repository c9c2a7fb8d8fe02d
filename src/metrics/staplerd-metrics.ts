// Prometheus metrics of staplerd on a private registry; the only module importing prom-client.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isErrorCode } from '../errors/index.js';
import type { CertificateStatusRow, FetchObservation, FleetHealthSummary, StapleFileFailure, StapleStateName } from '../types/index.js';
import { registerFleetMetrics } from './fleet-metrics.js';
import { hasValidStaple, isApplicable } from './health.js';

export interface StaplerdMetrics {
  /** The prom-client registry, for merging into a host application's registry; nothing else needs it. */
  readonly registry: Registry;
  observeFetch(observation: FetchObservation): void;
  /** Counts a staple file that could not be written or removed (full disk, read-only mount), by operation and code. */
  observeStapleFileFailure(failure: StapleFileFailure): void;
  /** Replaces the per-certificate gauges with the current rows (certificates that disappeared lose their series). */
  updateCertificates(rows: readonly CertificateStatusRow[], now: Date): void;
  /** Prometheus text exposition. With `now`, the time-relative gauges (staple_expiry_seconds, staple_valid) are first
   *  recomputed from the last rows at that instant, so a scrape between passes sees current values. */
  render(now?: Date): Promise<{ contentType: string; body: string }>;
  /** Adds the fleet series (staplerd_fleet_*, staplerd_staple_source) when a reload turned --fleet on, removes them when
   *  one turned it off: a host without --fleet must not export "not connected" (alerts would page it by design). */
  syncFleet(fleetHealth: (() => FleetHealthSummary | undefined) | undefined): void;
}

export interface StaplerdMetricsOptions {
  /** process_* and nodejs_* metrics from prom-client's collectDefaultMetrics (default true). */
  collectDefaults?: boolean;
  /** With --fleet: the fleet's health, read at each scrape (staplerd_fleet_*). */
  fleetHealth?: () => FleetHealthSummary | undefined;
}

/** Every StapleStateName, so staplerd_certificates{state} always exports all of them (zeros included): a missing
 *  series would make `staplerd_certificates{state="failing"} > 0` silently absent instead of 0. */
export const STAPLE_STATES: readonly StapleStateName[] = ['fresh', 'due', 'expired', 'revoked', 'unknown', 'missing', 'failing', 'not-applicable', 'expired-certificate', 'crl-good'];

/** OCSP responders answer in tens to hundreds of ms; the default fetch timeout is 10 s (docs/configuration.md). */
export const RESPONDER_LATENCY_BUCKETS_SECONDS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Subjects are descriptive only (on staplerd_certificate_info); long DNs are cut so one label cannot bloat a scrape. */
export const MAX_SUBJECT_LABEL_LENGTH = 128;

/** `code` label on success, and on a failure whose code is not one of ERROR_CODES (keeps the label set closed). */
const NO_CODE = 'none';
const OTHER_CODE = 'OTHER';

const CERT_LABELS = ['path', 'serial'] as const;
type CertLabels = (typeof CERT_LABELS)[number];

interface MetricSet {
  readonly certificateInfo: Gauge<CertLabels | 'subject'>;
  readonly mustStaple: Gauge<CertLabels>;
  readonly thisUpdate: Gauge<CertLabels>;
  readonly nextUpdate: Gauge<CertLabels>;
  readonly expiry: Gauge<CertLabels>;
  readonly stapleValid: Gauge<CertLabels>;
  readonly consecutiveFailures: Gauge<CertLabels>;
  readonly revoked: Gauge<CertLabels | 'source'>;
  readonly crlThisUpdate: Gauge<CertLabels>;
  readonly crlNextUpdate: Gauge<CertLabels>;
  readonly certificates: Gauge<'state'>;
  readonly statusUpdated: Gauge;
  readonly fetches: Counter<'host' | 'result' | 'code'>;
  readonly latency: Histogram<'host'>;
  readonly stapleFileFailures: Counter<'operation' | 'code'>;
}

export function createStaplerdMetrics(options: StaplerdMetricsOptions = {}): StaplerdMetrics {
  // A registry per instance, never prom-client's global one: tests and embedders create several side by side.
  const registry = new Registry();
  if (options.collectDefaults ?? true) collectDefaultMetrics({ register: registry });
  const metrics = registerMetrics(registry);
  for (const state of STAPLE_STATES) metrics.certificates.set({ state }, 0);
  let lastRows: readonly CertificateStatusRow[] = [];
  let fleet = options.fleetHealth ? registerFleetMetrics(registry, options.fleetHealth) : undefined;

  return {
    registry,
    observeFetch(observation) {
      recordFetch(metrics, observation);
    },
    observeStapleFileFailure(failure) {
      metrics.stapleFileFailures.inc({ operation: failure.operation, code: isErrorCode(failure.code) ? failure.code : OTHER_CODE });
    },
    updateCertificates(rows, now) {
      lastRows = [...rows];
      setCertificateGauges(metrics, lastRows, now);
      fleet?.updateSources(lastRows);
    },
    syncFleet(fleetHealth) {
      if (fleetHealth && !fleet) {
        fleet = registerFleetMetrics(registry, fleetHealth);
        fleet.updateSources(lastRows);
      } else if (!fleetHealth && fleet) {
        fleet.remove();
        fleet = undefined;
      }
    },
    async render(now) {
      if (now !== undefined) setTimeRelativeGauges(metrics, lastRows, now);
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

function registerMetrics(registry: Registry): MetricSet {
  const registers = [registry];
  const certGauge = (name: string, help: string): Gauge<CertLabels> => new Gauge({ name, help, labelNames: CERT_LABELS, registers });
  return {
    certificateInfo: new Gauge({
      name: 'staplerd_certificate_info',
      help: 'Always 1; carries the certificate subject (cut to 128 characters) for dashboards.',
      labelNames: [...CERT_LABELS, 'subject'],
      registers,
    }),
    mustStaple: certGauge('staplerd_certificate_must_staple', '1 when the certificate has the TLS Feature status_request extension (RFC 7633), else 0.'),
    thisUpdate: certGauge('staplerd_staple_this_update_timestamp_seconds', 'thisUpdate of the current staple, Unix seconds.'),
    nextUpdate: certGauge('staplerd_staple_next_update_timestamp_seconds', 'nextUpdate of the current staple, Unix seconds.'),
    expiry: certGauge('staplerd_staple_expiry_seconds', 'Seconds from the last scrape (or update) until the current staple reaches nextUpdate; negative once past.'),
    stapleValid: certGauge('staplerd_staple_valid', '1 when the current staple is good and before nextUpdate, else 0.'),
    consecutiveFailures: certGauge('staplerd_certificate_consecutive_failures', 'Failed fetch attempts in a row since the last success.'),
    // Revocation whichever way it was learnt (docs/revocation.md): alert on `staplerd_certificate_revoked == 1`.
    revoked: new Gauge({ name: 'staplerd_certificate_revoked', help: 'Always 1, for each revoked certificate; source="ocsp" (its staple) or "crl".', labelNames: [...CERT_LABELS, 'source'], registers }),
    crlThisUpdate: certGauge('staplerd_crl_this_update_timestamp_seconds', 'thisUpdate of the CRL that decided the certificate\'s revocation status, Unix seconds.'),
    crlNextUpdate: certGauge('staplerd_crl_next_update_timestamp_seconds', 'nextUpdate of the CRL that decided the certificate\'s revocation status, Unix seconds.'),
    certificates: new Gauge({ name: 'staplerd_certificates', help: 'Certificates by staple state.', labelNames: ['state'], registers }),
    statusUpdated: new Gauge({ name: 'staplerd_status_updated_timestamp_seconds', help: 'When the certificate gauges were last updated (end of a pass), Unix seconds.', registers }),
    fetches: new Counter({ name: 'staplerd_fetches_total', help: 'OCSP fetch attempts by responder host, result and error code (code="none" on success).', labelNames: ['host', 'result', 'code'], registers }),
    latency: new Histogram({
      name: 'staplerd_responder_latency_seconds',
      help: 'Duration of OCSP fetch attempts by responder host, failed attempts included.',
      labelNames: ['host'],
      buckets: [...RESPONDER_LATENCY_BUCKETS_SECONDS],
      registers,
    }),
    // A full disk or read-only mount leaves the old staple in place: staple_valid stays 1 until it runs out, so the
    // failed write itself must be countable (alert on increase) well before that.
    stapleFileFailures: new Counter({
      name: 'staplerd_staple_file_failures_total',
      help: 'Staple files that could not be written (operation="write") or removed (operation="remove"), by error code.',
      labelNames: ['operation', 'code'],
      registers,
    }),
  };
}

function recordFetch(metrics: MetricSet, observation: FetchObservation): void {
  const code = observation.result === 'success' ? NO_CODE : observation.code !== undefined && isErrorCode(observation.code) ? observation.code : OTHER_CODE;
  metrics.fetches.inc({ host: observation.host, result: observation.result, code });
  // A NaN or negative duration (clock stepped back mid-fetch) would corrupt the histogram sum; drop it.
  if (Number.isFinite(observation.latencyMs) && observation.latencyMs >= 0) metrics.latency.observe({ host: observation.host }, observation.latencyMs / 1000);
}

/** reset() then set() run synchronously, so a scrape never sees a half-replaced set of series. */
function setCertificateGauges(metrics: MetricSet, rows: readonly CertificateStatusRow[], now: Date): void {
  const perCertificate = [metrics.certificateInfo, metrics.mustStaple, metrics.thisUpdate, metrics.nextUpdate, metrics.consecutiveFailures];
  perCertificate.push(metrics.crlThisUpdate, metrics.crlNextUpdate);
  for (const gauge of [...perCertificate, metrics.revoked]) gauge.reset();
  const counts = new Map<StapleStateName, number>(STAPLE_STATES.map((state) => [state, 0]));
  for (const row of rows) {
    const labels = labelsOf(row);
    metrics.certificateInfo.set({ ...labels, subject: truncateLabel(row.subject, MAX_SUBJECT_LABEL_LENGTH) }, 1);
    metrics.mustStaple.set(labels, row.mustStaple ? 1 : 0);
    metrics.consecutiveFailures.set(labels, row.consecutiveFailures);
    if (row.thisUpdate !== undefined) metrics.thisUpdate.set(labels, toUnixSeconds(row.thisUpdate));
    if (row.nextUpdate !== undefined) metrics.nextUpdate.set(labels, toUnixSeconds(row.nextUpdate));
    if (row.state === 'revoked') metrics.revoked.set({ ...labels, source: row.revocationSource ?? 'ocsp' }, 1);
    if (row.crl?.thisUpdate !== undefined) metrics.crlThisUpdate.set(labels, toUnixSeconds(row.crl.thisUpdate));
    if (row.crl?.nextUpdate !== undefined) metrics.crlNextUpdate.set(labels, toUnixSeconds(row.crl.nextUpdate));
    counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
  }
  for (const [state, count] of counts) metrics.certificates.set({ state }, count);
  setTimeRelativeGauges(metrics, rows, now);
  metrics.statusUpdated.set(toUnixSeconds(now));
}

function setTimeRelativeGauges(metrics: MetricSet, rows: readonly CertificateStatusRow[], now: Date): void {
  metrics.expiry.reset();
  metrics.stapleValid.reset();
  for (const row of rows) {
    const labels = labelsOf(row);
    if (row.nextUpdate !== undefined) metrics.expiry.set(labels, (row.nextUpdate.getTime() - now.getTime()) / 1000);
    // Not-applicable certificates have no staple to be valid; leaving them out keeps `staple_valid == 0` alerts quiet.
    if (isApplicable(row)) metrics.stapleValid.set(labels, hasValidStaple(row, now) ? 1 : 0);
  }
}

/** Paths and serials only: never anything read from a key block. */
function labelsOf(row: CertificateStatusRow): Record<CertLabels, string> {
  return { path: row.path, serial: row.serialHex };
}

function truncateLabel(value: string, maxLength: number): string {
  return value.length <= maxLength ? value : `${value.slice(0, maxLength - 1)}…`;
}

function toUnixSeconds(date: Date): number {
  return date.getTime() / 1000;
}
