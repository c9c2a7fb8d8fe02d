import { describe, expect, it } from '@jest/globals';
import { createStaplerdMetrics, STAPLE_STATES } from '../../src/metrics/index.js';
import { findSamples, parseExposition, sampleValue, type Exposition } from './exposition.js';
import { hoursFromNow, makeRow, NOW } from './status-rows.js';

async function scrape(metrics: ReturnType<typeof createStaplerdMetrics>, now?: Date): Promise<Exposition> {
  return parseExposition((await metrics.render(now)).body);
}

const SITE = { path: '/etc/ssl/site/fullchain.pem', serial: '0a1b2c' };
const OTHER = { path: '/etc/ssl/other.pem', serial: 'ff01' };

describe('createStaplerdMetrics', () => {
  it('exports one series per certificate for the staple timestamps, expiry, must-staple and failures', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    metrics.updateCertificates([makeRow({ mustStaple: true }), makeRow({ path: OTHER.path, serialHex: OTHER.serial, state: 'failing', consecutiveFailures: 4, certStatus: undefined, thisUpdate: undefined, nextUpdate: undefined })], NOW);
    const exposition = await scrape(metrics);

    expect(sampleValue(exposition, 'staplerd_staple_this_update_timestamp_seconds', SITE)).toBe(hoursFromNow(-12).getTime() / 1000);
    expect(sampleValue(exposition, 'staplerd_staple_next_update_timestamp_seconds', SITE)).toBe(hoursFromNow(72).getTime() / 1000);
    expect(sampleValue(exposition, 'staplerd_staple_expiry_seconds', SITE)).toBe(72 * 3600);
    expect(sampleValue(exposition, 'staplerd_staple_valid', SITE)).toBe(1);
    expect(sampleValue(exposition, 'staplerd_certificate_must_staple', SITE)).toBe(1);
    expect(sampleValue(exposition, 'staplerd_certificate_consecutive_failures', SITE)).toBe(0);
    expect(sampleValue(exposition, 'staplerd_certificate_info', { ...SITE, subject: 'CN=www.example.test' })).toBe(1);

    // A certificate without a staple has no timestamp series, but still its failures and must-staple flag.
    expect(findSamples(exposition, 'staplerd_staple_next_update_timestamp_seconds', OTHER)).toEqual([]);
    expect(findSamples(exposition, 'staplerd_staple_expiry_seconds', OTHER)).toEqual([]);
    expect(sampleValue(exposition, 'staplerd_staple_valid', OTHER)).toBe(0);
    expect(sampleValue(exposition, 'staplerd_certificate_must_staple', OTHER)).toBe(0);
    expect(sampleValue(exposition, 'staplerd_certificate_consecutive_failures', OTHER)).toBe(4);
    expect(sampleValue(exposition, 'staplerd_status_updated_timestamp_seconds')).toBe(NOW.getTime() / 1000);
    expect(exposition.types.get('staplerd_staple_expiry_seconds')).toBe('gauge');
  });

  it('labels per-certificate series with path and serial only', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    metrics.updateCertificates([makeRow()], NOW);
    const exposition = await scrape(metrics);
    const perCertificate = exposition.samples.filter((s) => s.name.startsWith('staplerd_staple_') || s.name.startsWith('staplerd_certificate_') && s.name !== 'staplerd_certificate_info');
    expect(perCertificate.length).toBeGreaterThan(0);
    for (const sample of perCertificate) expect(Object.keys(sample.labels).sort()).toEqual(['path', 'serial']);
  });

  it('cuts a long subject on the info series', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    metrics.updateCertificates([makeRow({ subject: `CN=${'a'.repeat(300)}` })], NOW);
    const [info] = findSamples(await scrape(metrics), 'staplerd_certificate_info');
    expect(info?.labels.subject).toHaveLength(128);
    expect(info?.labels.subject?.endsWith('…')).toBe(true);
  });

  it('counts certificates by state with every state present, zeros included', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    expect(findSamples(await scrape(metrics), 'staplerd_certificates').map((s) => [s.labels.state, s.value])).toEqual(STAPLE_STATES.map((state) => [state, 0]));

    metrics.updateCertificates([makeRow(), makeRow({ path: '/2.pem' }), makeRow({ path: '/3.pem', state: 'not-applicable' }), makeRow({ path: '/4.pem', state: 'revoked', certStatus: 'revoked' })], NOW);
    const counts = Object.fromEntries(findSamples(await scrape(metrics), 'staplerd_certificates').map((s) => [s.labels.state, s.value]));
    expect(counts).toEqual({ fresh: 2, due: 0, expired: 0, revoked: 1, unknown: 0, missing: 0, failing: 0, 'not-applicable': 1, 'expired-certificate': 0, 'crl-good': 0 });
  });

  it('drops the series of certificates that disappeared when rows are replaced', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    metrics.updateCertificates([makeRow(), makeRow({ path: OTHER.path, serialHex: OTHER.serial })], NOW);
    expect(findSamples(await scrape(metrics), 'staplerd_staple_expiry_seconds')).toHaveLength(2);

    metrics.updateCertificates([makeRow({ path: OTHER.path, serialHex: OTHER.serial })], NOW);
    const exposition = await scrape(metrics);
    const perCertificate = exposition.samples.filter((s) => s.labels.path !== undefined);
    expect(perCertificate.length).toBeGreaterThan(0);
    expect(perCertificate.every((s) => s.labels.path === OTHER.path)).toBe(true);
    expect(sampleValue(exposition, 'staplerd_certificates', { state: 'fresh' })).toBe(1);
  });

  it('recomputes expiry and validity at the instant render is given', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    metrics.updateCertificates([makeRow({ nextUpdate: hoursFromNow(1) })], NOW);
    const later = await scrape(metrics, hoursFromNow(3));
    expect(sampleValue(later, 'staplerd_staple_expiry_seconds', SITE)).toBe(-2 * 3600);
    expect(sampleValue(later, 'staplerd_staple_valid', SITE)).toBe(0);
  });

  it('counts fetches by host, result and code, and records latency in a histogram', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    metrics.observeFetch({ host: 'ocsp.a.test', result: 'success', latencyMs: 80 });
    metrics.observeFetch({ host: 'ocsp.a.test', result: 'success', latencyMs: 300 });
    metrics.observeFetch({ host: 'ocsp.a.test', result: 'failure', code: 'FETCH_TIMEOUT', latencyMs: 10_000 });
    metrics.observeFetch({ host: 'ocsp.b.test:8080', result: 'failure', code: 'not a code', latencyMs: 20 });
    const exposition = await scrape(metrics);

    expect(exposition.types.get('staplerd_fetches_total')).toBe('counter');
    expect(sampleValue(exposition, 'staplerd_fetches_total', { host: 'ocsp.a.test', result: 'success', code: 'none' })).toBe(2);
    expect(sampleValue(exposition, 'staplerd_fetches_total', { host: 'ocsp.a.test', result: 'failure', code: 'FETCH_TIMEOUT' })).toBe(1);
    expect(sampleValue(exposition, 'staplerd_fetches_total', { host: 'ocsp.b.test:8080', result: 'failure', code: 'OTHER' })).toBe(1);

    expect(exposition.types.get('staplerd_responder_latency_seconds')).toBe('histogram');
    const bucket = (le: string): number | undefined => sampleValue(exposition, 'staplerd_responder_latency_seconds_bucket', { host: 'ocsp.a.test', le });
    expect([bucket('0.05'), bucket('0.1'), bucket('0.25'), bucket('0.5'), bucket('5'), bucket('10'), bucket('+Inf')]).toEqual([0, 1, 1, 2, 2, 3, 3]);
    expect(sampleValue(exposition, 'staplerd_responder_latency_seconds_count', { host: 'ocsp.a.test' })).toBe(3);
    expect(sampleValue(exposition, 'staplerd_responder_latency_seconds_sum', { host: 'ocsp.a.test' })).toBeCloseTo(10.38, 9);
  });

  it('ignores a negative or NaN latency in the histogram but still counts the fetch', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    metrics.observeFetch({ host: 'h.test', result: 'success', latencyMs: -5 });
    metrics.observeFetch({ host: 'h.test', result: 'success', latencyMs: Number.NaN });
    const exposition = await scrape(metrics);
    expect(sampleValue(exposition, 'staplerd_fetches_total', { host: 'h.test' })).toBe(2);
    expect(findSamples(exposition, 'staplerd_responder_latency_seconds_count', { host: 'h.test' })).toEqual([]);
  });

  it('counts staple files that could not be written or removed, by operation and code', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    metrics.observeStapleFileFailure({ operation: 'write', code: 'WRITE_FAILED' });
    metrics.observeStapleFileFailure({ operation: 'write', code: 'WRITE_FAILED' });
    metrics.observeStapleFileFailure({ operation: 'remove', code: 'REMOVE_FAILED' });
    metrics.observeStapleFileFailure({ operation: 'write', code: 'ENOSPC' });
    const exposition = await scrape(metrics);

    expect(sampleValue(exposition, 'staplerd_staple_file_failures_total', { operation: 'write', code: 'WRITE_FAILED' })).toBe(2);
    expect(sampleValue(exposition, 'staplerd_staple_file_failures_total', { operation: 'remove', code: 'REMOVE_FAILED' })).toBe(1);
    // A code outside ERROR_CODES keeps the label set closed.
    expect(sampleValue(exposition, 'staplerd_staple_file_failures_total', { operation: 'write', code: 'OTHER' })).toBe(1);
    expect(exposition.types.get('staplerd_staple_file_failures_total')).toBe('counter');
  });

  it('keeps instances apart: each has its own registry', async () => {
    const first = createStaplerdMetrics({ collectDefaults: false });
    const second = createStaplerdMetrics({ collectDefaults: false });
    first.observeFetch({ host: 'h.test', result: 'success', latencyMs: 1 });
    expect(sampleValue(await scrape(first), 'staplerd_fetches_total', { host: 'h.test' })).toBe(1);
    expect(findSamples(await scrape(second), 'staplerd_fetches_total')).toEqual([]);
  });

  it('adds the standard process and nodejs metrics by default, and only then', async () => {
    const withDefaults = createStaplerdMetrics();
    const withoutDefaults = createStaplerdMetrics({ collectDefaults: false });
    expect(findSamples(await scrape(withDefaults), 'process_cpu_seconds_total')).toHaveLength(1);
    expect((await scrape(withDefaults)).samples.some((s) => s.name.startsWith('nodejs_'))).toBe(true);
    expect((await scrape(withoutDefaults)).samples.some((s) => s.name.startsWith('process_') || s.name.startsWith('nodejs_'))).toBe(false);
  });

  it('renders with the Prometheus text content type', async () => {
    expect((await createStaplerdMetrics({ collectDefaults: false }).render()).contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
