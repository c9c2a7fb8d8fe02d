// End to end: `staplerd run --metrics`: Prometheus text scraped over HTTP, /healthz turning 503 when a must-staple
// certificate loses its staple, the listener's address on reload, and bad addresses refused with exit 2.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rm, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startOcspResponder, type RunningResponder } from '../../src/demo/ocsp-responder.js';
import { runCli, startDaemon, type DaemonProcess } from '../helpers/run-cli.js';
import { findSamples, parseExposition, sampleValue, type Exposition } from '../metrics/exposition.js';
import { checkStaple, closedPortUrl, createE2eFixture, expectExitCode, freePort, waitFor, type E2eFixture } from './e2e-fixture.js';

let fx: E2eFixture;
const responders: RunningResponder[] = [];

async function responder(options: { validityMs?: number } = {}): Promise<RunningResponder> {
  const started = await startOcspResponder({ authority: fx.pki.authority, ...options });
  responders.push(started);
  return started;
}

function hostOf(url: string): string {
  return new URL(url).host;
}

async function scrape(base: string): Promise<Exposition> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

interface HealthBody {
  healthy: boolean;
  problems: { path: string; mustStaple: boolean; reason: string }[];
}

async function health(base: string): Promise<{ status: number; body: HealthBody }> {
  const response = await fetch(`${base}/healthz`);
  return { status: response.status, body: (await response.json()) as HealthBody };
}

/** Polls /healthz until it answers 503 (a generous bound, not a timing assertion). */
async function waitForUnhealthy(base: string): Promise<HealthBody> {
  let last: HealthBody | undefined;
  await waitFor(async () => {
    const answer = await health(base);
    last = answer.body;
    return answer.status === 503;
  }, `/healthz to answer 503 (last body ${JSON.stringify(last)})`, 15_000);
  return last!;
}

beforeAll(async () => {
  fx = await createE2eFixture();
});

afterAll(async () => {
  await Promise.all(responders.map((r) => r.close()));
  await fx?.close();
});

describe('staplerd run --metrics', () => {
  let daemon: DaemonProcess;
  let base: string;
  let mustStapleResponder: RunningResponder;
  let failingResponder: RunningResponder;
  let unreachable: string;
  const files: Record<string, { certFile: string; ref: string }> = {};

  beforeAll(async () => {
    const dir = await fx.makeDir('metrics/certs');
    mustStapleResponder = await responder();
    failingResponder = await responder();
    failingResponder.setFault('http-500');
    unreachable = await closedPortUrl();
    const leaves = {
      good: await fx.issueLeaf({ commonName: 'good.test' }),
      must: await fx.issueLeaf({ commonName: 'must.test', mustStaple: true, ocspUrls: [mustStapleResponder.url] }),
      broken: await fx.issueLeaf({ commonName: 'broken.test', ocspUrls: [failingResponder.url] }),
      down: await fx.issueLeaf({ commonName: 'down.test', ocspUrls: [unreachable] }),
    };
    for (const [name, leaf] of Object.entries(leaves)) {
      files[name] = { certFile: (await fx.pki.writeLeaf(dir, leaf, 'fullchain', name)).certFile, ref: await fx.writeReferencePem(leaf) };
    }
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    daemon = startDaemon(['--certs', dir, '--metrics', `127.0.0.1:${port}`, '--health-margin', '1h', '--watch-debounce', '0.2', '--log-format', 'json'], {
      env: { STATE_DIRECTORY: path.join(fx.root, 'metrics', 'state') },
    });
    await daemon.waitForLog('"daemon.ready"', 20_000);
  });

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) await daemon.stop('SIGKILL');
  });

  it('logs the address it serves on before the first pass', () => {
    const log = daemon.output();
    expect(log).toContain(`"event":"metrics.listening"`);
    expect(log).toContain(`"url":"${base}"`);
    expect(log.indexOf('"metrics.listening"')).toBeLessThan(log.indexOf('"pass.finished"'));
  });

  it("exports each certificate's staple times exactly as the staple on disk has them", async () => {
    const exposition = await scrape(base);
    for (const name of ['good', 'must']) {
      const { certFile, ref } = files[name]!;
      const staple = await checkStaple(`${certFile}.ocsp`, ref, fx);
      expect({ name, nextUpdate: sampleValue(exposition, 'staplerd_staple_next_update_timestamp_seconds', { path: certFile }) }).toEqual({
        name,
        nextUpdate: Date.parse(staple.nextUpdate!) / 1000,
      });
      expect(sampleValue(exposition, 'staplerd_staple_this_update_timestamp_seconds', { path: certFile })).toBe(Date.parse(staple.thisUpdate!) / 1000);
      expect(sampleValue(exposition, 'staplerd_staple_valid', { path: certFile })).toBe(1);
    }
    expect(sampleValue(exposition, 'staplerd_certificate_must_staple', { path: files.must!.certFile })).toBe(1);
    // Certificates without a staple have no staple times, and say how often they failed.
    expect(findSamples(exposition, 'staplerd_staple_next_update_timestamp_seconds', { path: files.broken!.certFile })).toEqual([]);
    expect(sampleValue(exposition, 'staplerd_certificate_consecutive_failures', { path: files.broken!.certFile })).toBe(1);
    expect(sampleValue(exposition, 'staplerd_certificates', { state: 'fresh' })).toBe(2);
    expect(sampleValue(exposition, 'staplerd_certificates', { state: 'failing' })).toBe(2);
  });

  it('counts each fetch attempt by responder host, result and error code, with a latency histogram per host', async () => {
    const exposition = await scrape(base);
    const expected: [string, string, string][] = [
      [hostOf(fx.responder.url), 'success', 'none'],
      [hostOf(mustStapleResponder.url), 'success', 'none'],
      [hostOf(failingResponder.url), 'failure', 'FETCH_HTTP_STATUS'],
      [hostOf(unreachable), 'failure', 'FETCH_NETWORK'],
    ];
    const counted = findSamples(exposition, 'staplerd_fetches_total').map((s) => [s.labels.host, s.labels.result, s.labels.code, s.value]);
    expect(counted.sort()).toEqual(expected.map((labels) => [...labels, 1]).sort());
    expect(exposition.types.get('staplerd_responder_latency_seconds')).toBe('histogram');
    for (const [host] of expected) {
      expect({ host, count: sampleValue(exposition, 'staplerd_responder_latency_seconds_count', { host }) }).toEqual({ host, count: 1 });
      expect(sampleValue(exposition, 'staplerd_responder_latency_seconds_bucket', { host, le: '+Inf' })).toBe(1);
    }
  });

  it('answers /healthz 200 while every must-staple certificate has a valid staple far from its nextUpdate', async () => {
    const { status, body } = await health(base);
    expect({ status, body }).toMatchObject({ status: 200, body: { healthy: true, problems: [] } });
  });

  it('turns /healthz 503, naming the certificate, when a must-staple staple goes missing and its responder is down', async () => {
    await mustStapleResponder.close();
    await rm(`${files.must!.certFile}.ocsp`);
    // Rewriting the certificate file makes the daemon look at it again (it watches certificates, not staples).
    await writeFile(files.must!.certFile, await readFile(files.must!.certFile));

    const body = await waitForUnhealthy(base);

    expect(body.healthy).toBe(false);
    expect(body.problems).toEqual([expect.objectContaining({ path: files.must!.certFile, mustStaple: true, reason: expect.stringMatching(/^no-valid-staple: /) })]);
    const exposition = await scrape(base);
    expect(sampleValue(exposition, 'staplerd_staple_valid', { path: files.must!.certFile })).toBe(0);
    expect(sampleValue(exposition, 'staplerd_fetches_total', { host: hostOf(mustStapleResponder.url), result: 'failure', code: 'FETCH_NETWORK' })).toBe(1);
  });

  it('closes the listener when it stops', async () => {
    expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await expect(fetch(`${base}/metrics`)).rejects.toThrow();
  });
});

describe('staplerd run --metrics with a staple that expires between passes', () => {
  it('turns /healthz 503 once the must-staple staple passes its nextUpdate, without waiting for a pass', async () => {
    const dir = await fx.makeDir('expiring/certs');
    // Answers valid for 66 s from a thisUpdate one minute back: the staple has a few seconds left when written.
    const shortLived = await responder({ validityMs: 66_000 });
    const leaf = await fx.issueLeaf({ commonName: 'expiring.test', mustStaple: true, ocspUrls: [shortLived.url] });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'expiring');
    const env = { STATE_DIRECTORY: path.join(fx.root, 'expiring', 'state') };
    expectExitCode(await fx.once(['--certs', dir, '--min-remaining', '0'], env), 0);
    await shortLived.close();

    const port = await freePort();
    // No margin: only the staple reaching its nextUpdate can make /healthz fail.
    const daemon = startDaemon(['--certs', dir, '--metrics', `127.0.0.1:${port}`, '--health-margin', '0', '--min-remaining', '0', '--log-format', 'json'], {
      env,
    });
    try {
      await daemon.waitForLog('"daemon.ready"', 20_000);
      const body = await waitForUnhealthy(`http://127.0.0.1:${port}`);
      expect(body.problems).toEqual([expect.objectContaining({ path: certFile, mustStaple: true, reason: expect.stringMatching(/^no-valid-staple: /) })]);
    } finally {
      expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  });
});

describe('the metrics address', () => {
  let emptyDir: string;

  beforeAll(async () => {
    emptyDir = await fx.makeDir('metrics-address/certs');
  });

  it('moves to the new address from the configuration file on SIGHUP', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const configFile = path.join(fx.root, 'metrics-address', 'staplerd.yaml');
    const writeConfig = (port: number): Promise<void> =>
      writeFile(configFile, [`certs: [${JSON.stringify(emptyDir)}]`, `metrics: "127.0.0.1:${port}"`, 'healthMargin: 6h', 'logFormat: json', ''].join('\n'));
    await writeConfig(first);
    const daemon = startDaemon(['--config', configFile]);
    try {
      await daemon.waitForLog('"daemon.ready"', 20_000);
      const healthy = await health(`http://127.0.0.1:${first}`);
      expect(healthy).toMatchObject({ status: 200, body: { healthy: true, marginSeconds: 21_600 } });

      await writeConfig(second);
      const mark = daemon.output().length;
      daemon.child.kill('SIGHUP');
      await daemon.waitForLog('"daemon.reloaded"', 20_000, mark);

      expect(daemon.output().slice(mark)).toContain(`"url":"http://127.0.0.1:${second}"`);
      expect((await fetch(`http://127.0.0.1:${second}/metrics`)).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${first}/metrics`)).rejects.toThrow();
    } finally {
      expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  });

  it.each([':9420', '127.0.0.1', 'localhost:99999'])('refuses --metrics %s with exit 2 naming the option', async (listen) => {
    const result = await runCli(['run', '--certs', emptyDir, '--metrics', listen]);
    expectExitCode(result, 2);
    expect(result.stderr).toContain('--metrics');
  });

  it('exits 2 with METRICS_LISTEN_FAILED before any fetch when the address is in use', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    const dir = await fx.makeDir('metrics-in-use/certs');
    await fx.pki.writeLeaf(dir, await fx.issueLeaf({ commonName: 'in-use.test' }), 'fullchain', 'site');
    const before = fx.responder.requestCount;
    try {
      const result = await runCli(['run', '--certs', dir, '--metrics', `127.0.0.1:${port}`]);
      expectExitCode(result, 2);
      expect(result.stderr).toContain(`METRICS_LISTEN_FAILED: cannot listen for metrics on 127.0.0.1:${port}: EADDRINUSE`);
      expect(fx.responder.requestCount).toBe(before);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
