// The daemon's metrics listener: 503 "starting" before the first pass, rebinding on reload, keeping the old address
// when the new one cannot be bound, and closing.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsEndpoint, type MetricsSource } from '../../src/daemon/metrics-endpoint.js';
import { syncMetricsEndpoint } from '../../src/daemon/metrics-wiring.js';
import { createMemoryLogger } from '../../src/log/index.js';
import { fixedClock, type CertificateStatusRow, type FleetHealthSummary } from '../../src/types/index.js';
import { hoursFromNow, makeRow, NOW } from './status-rows.js';

const endpoints: MetricsEndpoint[] = [];
const blockers: Server[] = [];

afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()));
  await Promise.all(blockers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

type TestSource = MetricsSource & { readonly log: ReturnType<typeof createMemoryLogger> };

function source(rows: { current?: readonly CertificateStatusRow[] }): TestSource {
  const log = createMemoryLogger();
  return { rows: () => rows.current, healthMarginMs: () => 3_600_000, clock: fixedClock(NOW), logger: () => log, log };
}

async function start(listen: string, from: MetricsSource): Promise<MetricsEndpoint> {
  const endpoint = await MetricsEndpoint.start(listen, from);
  endpoints.push(endpoint);
  return endpoint;
}

/** The URL the endpoint logged for its latest bind. */
function listeningUrl(from: TestSource): string {
  const events = from.log.events.filter((e) => e.event === 'metrics.listening');
  return String(events.at(-1)?.fields.url);
}

/** A port bound by another server for the duration of the test. */
async function occupiedPort(): Promise<number> {
  const server = createServer();
  blockers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('MetricsEndpoint', () => {
  it('answers /healthz 503 marked as starting until the first pass has produced rows, then judges the rows', async () => {
    const rows: { current?: readonly CertificateStatusRow[] } = {};
    const from = source(rows);
    await start('127.0.0.1:0', from);
    const url = listeningUrl(from);

    const starting = await fetch(`${url}/healthz`);
    expect(starting.status).toBe(503);
    expect(await starting.json()).toMatchObject({ healthy: false, starting: true, problems: [], certificates: 0 });

    rows.current = [makeRow({ mustStaple: true, nextUpdate: hoursFromNow(48) })];
    const healthy = await fetch(`${url}/healthz`);
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toMatchObject({ healthy: true, certificates: 1, marginSeconds: 3600 });
  });

  it('serves the certificate gauges it was last given', async () => {
    const from = source({ current: [] });
    const endpoint = await start('127.0.0.1:0', from);
    endpoint.updateCertificates([makeRow({ path: '/srv/a.pem', nextUpdate: hoursFromNow(10) })], NOW);
    const text = await (await fetch(`${listeningUrl(from)}/metrics`)).text();
    expect(text).toContain(`staplerd_staple_next_update_timestamp_seconds{path="/srv/a.pem",serial="0a1b2c"} ${hoursFromNow(10).getTime() / 1000}`);
  });

  it('adds the fleet series when a reload turns --fleet on, and removes them when one turns it off', async () => {
    const fleet: { health?: FleetHealthSummary } = {};
    const from: TestSource = { ...source({ current: [] }), fleetHealth: () => fleet.health };
    const endpoint = await start('127.0.0.1:0', from);
    const scrape = async (): Promise<string> => (await fetch(`${listeningUrl(from)}/metrics`)).text();
    expect(await scrape()).not.toContain('staplerd_fleet_connected');

    fleet.health = { connected: true, leasesWon: 2, sharedHits: 5, rejected: { invalid: 1 }, errors: 0 };
    endpoint.syncFleet();
    const withFleet = await scrape();
    expect(withFleet).toContain('staplerd_fleet_connected 1');
    expect(withFleet).toContain('staplerd_fleet_shared_hits_total 5');
    expect(withFleet).toContain('staplerd_fleet_rejected_total{reason="invalid"} 1');

    fleet.health = undefined;
    endpoint.syncFleet();
    const withoutFleet = await scrape();
    expect(withoutFleet).not.toMatch(/staplerd_fleet_|staplerd_staple_source/);
    expect(withoutFleet).toContain('staplerd_certificates');
  });

  it('is brought in step with --fleet by the reload path (syncMetricsEndpoint) at the same address', async () => {
    const fleet: { health?: FleetHealthSummary } = {};
    const from: TestSource = { ...source({ current: [] }), fleetHealth: () => fleet.health };
    const endpoint = await start('127.0.0.1:0', from);
    const listen = new URL(listeningUrl(from)).host;
    fleet.health = { connected: false, leasesWon: 0, sharedHits: 0, rejected: {}, errors: 3 };
    expect(await syncMetricsEndpoint(endpoint, listen, from, () => false)).toBeUndefined();
    expect(await (await fetch(`${listeningUrl(from)}/metrics`)).text()).toContain('staplerd_fleet_errors_total 3');
  });

  it('moves to a new address on reconfigure and stops answering on the old one', async () => {
    const from = source({ current: [] });
    const endpoint = await start('127.0.0.1:0', from);
    const oldUrl = listeningUrl(from);
    const port = await freePort();

    await endpoint.reconfigure(`127.0.0.1:${port}`);

    expect(listeningUrl(from)).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    await expect(fetch(`${oldUrl}/metrics`)).rejects.toThrow();
  });

  it('keeps serving on the old address and logs metrics.rebind_failed when the new one is taken', async () => {
    const from = source({ current: [] });
    const endpoint = await start('127.0.0.1:0', from);
    const oldUrl = listeningUrl(from);
    const taken = await occupiedPort();

    await endpoint.reconfigure(`127.0.0.1:${taken}`);

    const failure = from.log.events.find((e) => e.event === 'metrics.rebind_failed');
    expect(failure).toMatchObject({ level: 'error', fields: { code: 'METRICS_LISTEN_FAILED', listen: `127.0.0.1:${taken}` } });
    expect(failure?.message).toContain(`still listening on 127.0.0.1:${new URL(oldUrl).port}`);
    expect((await fetch(`${oldUrl}/metrics`)).status).toBe(200);
  });

  it('closes the listener when the address is removed from the configuration', async () => {
    const from = source({ current: [] });
    const endpoint = await start('127.0.0.1:0', from);
    const url = listeningUrl(from);

    await endpoint.reconfigure(undefined);

    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
    expect(from.log.events.some((e) => e.event === 'metrics.closed')).toBe(true);
  });

  it('refuses to start on an address in use with METRICS_LISTEN_FAILED naming the address', async () => {
    const taken = await occupiedPort();
    await expect(MetricsEndpoint.start(`127.0.0.1:${taken}`, source({}))).rejects.toMatchObject({
      code: 'METRICS_LISTEN_FAILED',
      message: expect.stringContaining(`127.0.0.1:${taken}`),
    });
  });
});
