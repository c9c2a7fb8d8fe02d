import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { StaplerdError } from '../../src/errors/index.js';
import { createStaplerdMetrics, evaluateHealth, parseListenAddress, startMetricsServer, type MetricsServer } from '../../src/metrics/index.js';
import { fixedClock, type CertificateStatusRow } from '../../src/types/index.js';
import { parseExposition, sampleValue } from './exposition.js';
import { hoursFromNow, makeRow, NOW } from './status-rows.js';

const MARGIN_MS = 6 * 3_600_000;
const started: MetricsServer[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()));
});

async function startTestServer(rows: { current: readonly CertificateStatusRow[] }, listen = '127.0.0.1:0'): Promise<MetricsServer> {
  const metrics = createStaplerdMetrics({ collectDefaults: false });
  metrics.updateCertificates(rows.current, NOW);
  const server = await startMetricsServer({ listen, metrics, health: () => evaluateHealth(rows.current, NOW, MARGIN_MS), clock: fixedClock(hoursFromNow(1)) });
  started.push(server);
  return server;
}

function portOf(server: MetricsServer): number {
  return Number(new URL(server.url).port);
}

describe('startMetricsServer', () => {
  it('serves Prometheus text on GET /metrics, with gauges as of the scrape instant', async () => {
    const server = await startTestServer({ current: [makeRow()] });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const exposition = parseExposition(await response.text());
    // The server's clock is one hour after the rows were taken: expiry is 72 h - 1 h.
    expect(sampleValue(exposition, 'staplerd_staple_expiry_seconds', { path: '/etc/ssl/site/fullchain.pem' })).toBe(71 * 3600);
  });

  it('answers /healthz with the JSON report: 200 while healthy, 503 once the rows change', async () => {
    const rows = { current: [makeRow({ mustStaple: true })] as readonly CertificateStatusRow[] };
    const server = await startTestServer(rows);

    const healthy = await fetch(`${server.url}/healthz`);
    expect(healthy.status).toBe(200);
    expect(healthy.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await healthy.json()).toMatchObject({ healthy: true, certificates: 1, problems: [] });

    rows.current = [makeRow({ mustStaple: true, state: 'failing', certStatus: undefined, nextUpdate: undefined, consecutiveFailures: 1 })];
    const unhealthy = await fetch(`${server.url}/healthz`);
    expect(unhealthy.status).toBe(503);
    const body = (await unhealthy.json()) as { healthy: boolean; problems: { reason: string }[] };
    expect(body.healthy).toBe(false);
    expect(body.problems[0]?.reason).toMatch(/^no-valid-staple: /);
  });

  it('answers 404 for any other path', async () => {
    const server = await startTestServer({ current: [] });
    for (const path of ['/', '/metrics/', '/health', '/favicon.ico']) {
      const response = await fetch(`${server.url}${path}`);
      expect([path, response.status]).toEqual([path, 404]);
    }
  });

  it('ignores a query string on a known path', async () => {
    const server = await startTestServer({ current: [] });
    expect((await fetch(`${server.url}/healthz?verbose=1`)).status).toBe(200);
  });

  it('refuses other methods on known paths with 405 and an Allow header', async () => {
    const server = await startTestServer({ current: [] });
    const response = await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers 500 with the message when the health callback throws', async () => {
    const metrics = createStaplerdMetrics({ collectDefaults: false });
    const server = await startMetricsServer({ listen: '127.0.0.1:0', metrics, health: () => { throw new Error('no rows yet'); } });
    started.push(server);
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('internal error: no rows yet\n');
  });

  it('frees the port on close, even with a kept-alive scrape connection open', async () => {
    const server = await startTestServer({ current: [] });
    const port = portOf(server);
    await getWithKeepAlive(`${server.url}/metrics`);
    await server.close();
    started.splice(started.indexOf(server), 1);
    await expect(fetch(`${server.url}/metrics`)).rejects.toThrow();
    const again = await startTestServer({ current: [] }, `127.0.0.1:${port}`);
    expect(portOf(again)).toBe(port);
  });

  it('rejects with METRICS_LISTEN_FAILED naming the address when the port is taken', async () => {
    const first = await startTestServer({ current: [] });
    const listen = `127.0.0.1:${portOf(first)}`;
    const attempt = startMetricsServer({ listen, metrics: createStaplerdMetrics({ collectDefaults: false }), health: () => evaluateHealth([], NOW, 0) });
    await expect(attempt).rejects.toMatchObject({ code: 'METRICS_LISTEN_FAILED', message: `cannot listen for metrics on ${listen}: EADDRINUSE` });
  });
});

/** One GET over an agent that keeps the socket open afterwards, as Prometheus does between scrapes. */
function getWithKeepAlive(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { connection: 'keep-alive' } }, (response) => {
      response.resume();
      response.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:9420', { host: '127.0.0.1', port: 9420 }],
    ['[::1]:9420', { host: '::1', port: 9420 }],
    ['0.0.0.0:9420', { host: '0.0.0.0', port: 9420 }],
    ['[::]:9420', { host: '::', port: 9420 }],
    ['localhost:9420', { host: 'localhost', port: 9420 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
  ])('parses %s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each([
    [':9420', /the host is required/],
    ['9420', /expected host:port/],
    ['127.0.0.1', /expected host:port/],
    ['::1:9420', /expected host:port/],
    ['[127.0.0.1]:9420', /not an IPv6 address/],
    ['127.0.0.1:65536', /out of range/],
    ['127.0.0.1:http', /expected host:port/],
    ['bad_host!:9420', /not an IP address or host name/],
    ['', /expected host:port/],
  ])('refuses %j with CONFIG_INVALID naming the text', (text, detail) => {
    let thrown: unknown;
    try {
      parseListenAddress(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StaplerdError);
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(`"${text}"`) });
    expect((thrown as Error).message).toMatch(detail);
  });
});
