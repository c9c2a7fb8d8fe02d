// Runs `npm run bench -- --quick` end to end on a few certificates: every figure is there, the warm restart sends
// nothing, and no contender ever has more than the per-host limit in flight at the responder. No timing assertions.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult, RunFigures } from '../../bench/report.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CERTIFICATES = 50;
const PER_HOST_LIMIT = 2;
const BENCH_TIMEOUT_MS = 5 * 60 * 1000;

/** Figures each contender must report (median and per run), as finite numbers. */
const REQUIRED: Record<keyof RunFigures, readonly string[]> = {
  cold: ['wallMs', 'certsPerSecond', 'cpuMsPerCert', 'peakRssKb', 'requests', 'maxInFlight', 'stapled'],
  warm: ['wallMs', 'cpuMsPerCert', 'peakRssKb', 'requests', 'maxInFlight', 'stapled'],
  daemon: ['readyMs', 'cpuMsPerCert', 'rssKbAtReady', 'peakRssKbAtReady', 'requests', 'maxInFlight'],
  floor: ['wallMs', 'certsPerSecond', 'cpuMsPerCert', 'peakRssKb', 'requests', 'maxInFlight', 'ok'],
  easyOcsp: ['wallMs', 'certsPerSecond', 'cpuMsPerCert', 'peakRssKb', 'requests', 'maxInFlight', 'ok'],
  shellLoop: ['sample', 'ok', 'wallMs', 'projectedWallMs', 'certsPerSecond', 'cpuMsPerCert', 'requests', 'maxInFlight'],
};

function run(command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Jest's --experimental-vm-modules must not leak into the measured processes.
    execFile(command, [...args], { cwd: PROJECT_ROOT, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

describe('npm run bench -- --quick', () => {
  let outDir: string;
  let result: BenchResult;
  let markdown: string;

  beforeAll(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), 'staplerd-bench-test-'));
    await run(process.execPath, [path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'bench/tsconfig.json']);
    // A small responder latency makes requests overlap, so the in-flight limit is actually exercised.
    await run(process.execPath, [
      'dist-bench/bench/run-bench.js',
      '--quick',
      '--certs', String(CERTIFICATES),
      '--runs', '1',
      '--shell-sample', '5',
      '--concurrency', '8',
      '--per-host-concurrency', String(PER_HOST_LIMIT),
      '--latency-ms', '5',
      '--out', outDir,
    ]);
    result = JSON.parse(await readFile(path.join(outDir, `quick-n${CERTIFICATES}.json`), 'utf8')) as BenchResult;
    markdown = await readFile(path.join(outDir, `quick-n${CERTIFICATES}.md`), 'utf8');
  }, BENCH_TIMEOUT_MS);

  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('reports every figure of every contender, per run and as the median', () => {
    const missing: string[] = [];
    for (const [label, figures] of [['run 1', result.runs[0]!], ['median', result.median]] as const) {
      for (const [contender, keys] of Object.entries(REQUIRED)) {
        for (const key of keys) if (!Number.isFinite(figures[contender as keyof RunFigures][key])) missing.push(`${label} ${contender}.${key}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('reports the three ratios and the responder throughput as finite numbers', () => {
    expect(Object.keys(result.ratios).sort()).toEqual([
      'easyOcspOverStaplerdCpu',
      'easyOcspOverStaplerdWall',
      'shellLoopOverStaplerdCpu',
      'shellLoopOverStaplerdWall',
      'staplerdOverFloorCpu',
      'staplerdOverFloorWall',
    ]);
    for (const value of Object.values(result.ratios)) expect(Number.isFinite(value)).toBe(true);
    expect(Number.isFinite(result.responder.capacityRequestsPerCoreSecond)).toBe(true);
    expect(result.setup.answers).toBe(CERTIFICATES);
  });

  it('staples every certificate with every contender', () => {
    const [figures] = result.runs;
    expect(figures!.cold.stapled).toBe(CERTIFICATES);
    expect(figures!.cold.requests).toBe(CERTIFICATES);
    expect(figures!.floor.ok).toBe(CERTIFICATES);
    expect(figures!.easyOcsp.ok).toBe(CERTIFICATES);
    expect(figures!.shellLoop.ok).toBe(figures!.shellLoop.sample);
    expect(result.checks.allStapled).toBe(true);
  });

  it('sends no request to the responder on the warm restart nor at daemon start', () => {
    expect(result.runs[0]!.warm.requests).toBe(0);
    expect(result.runs[0]!.daemon.requests).toBe(0);
    expect(result.checks.warmSentNoRequests).toBe(true);
  });

  it('never has more than the per-host limit in flight at the responder', () => {
    const inFlight = result.runs.flatMap((figures) => Object.values(figures).map((contender) => contender.maxInFlight as number));
    expect(Math.max(...inFlight)).toBeLessThanOrEqual(PER_HOST_LIMIT);
    // The counter saw the cold pass at all (a responder that never counted would pass the line above).
    expect(result.runs[0]!.cold.maxInFlight).toBeGreaterThanOrEqual(1);
    expect(result.politeness).toEqual({ perHostLimit: PER_HOST_LIMIT, maxInFlight: Math.max(...inFlight), withinLimit: true });
  });

  it("records the machine's core count and Node version", () => {
    expect(result.machine.cores).toBeGreaterThanOrEqual(1);
    expect(result.machine.nodeVersion).toBe(process.version);
    expect(result.settings).toMatchObject({ mode: 'quick', certificates: CERTIFICATES, runs: 1, perHostConcurrency: PER_HOST_LIMIT });
  });

  it("runs issue 13's scenarios: a latency-bound pass, hosts at different delays, a small daemon's settled memory", () => {
    const scenarios = result.scenarios!;
    const run = scenarios.latencyRuns[0]!;
    // Every certificate was fetched exactly once by staplerd and by easy-ocsp, within the per-host limit.
    expect(run.staplerd.requests).toBe(scenarios.settings.latencyCerts);
    expect(run.easyOcsp.requests).toBe(scenarios.settings.latencyCerts);
    // The floor ran over the same responder too: what the machine's load leaves of N*d/P for any client.
    expect(run.floor.requests).toBe(scenarios.settings.latencyCerts);
    const perHost = Math.floor(scenarios.settings.latencyCerts / scenarios.settings.multiHostDelaysMs.length);
    expect(scenarios.multiHostRuns[0]!.staplerd.requests).toBe(perHost * scenarios.settings.multiHostDelaysMs.length);
    // Each of the five responders saw requests, none more than the per-host limit at once.
    const byHost = scenarios.multiHostRuns[0]!.maxInFlightByHost;
    expect(byHost).toHaveLength(scenarios.settings.multiHostDelaysMs.length);
    for (const inFlight of [...byHost, run.staplerd.maxInFlight!, run.easyOcsp.maxInFlight!, run.floor.maxInFlight!]) {
      expect(inFlight).toBeGreaterThanOrEqual(1);
      expect(inFlight).toBeLessThanOrEqual(PER_HOST_LIMIT);
    }
    expect(result.checks.scenarioPoliteness).toBe(true);
    for (const key of ['latencyBoundMs', 'latencyStaplerdMs', 'latencyEasyOcspMs', 'latencyFloorMs', 'multiHostSlowestBoundMs', 'multiHostStaplerdMs', 'smallDaemonRssKb', 'smallWarmDaemonRssKb', 'bareNodeRssKb']) {
      expect([key, Number.isFinite(scenarios.summary[key]) && scenarios.summary[key]! > 0]).toEqual([key, true]);
    }
    // What the responders saw of each client: its dead time per request, their hold per request, its first request.
    for (const key of ['latencyDeadTimeMs', 'latencyFloorDeadTimeMs', 'latencyHeldMs', 'latencyFirstRequestMs', 'multiHostFirstRequestMs']) {
      expect([key, Number.isFinite(scenarios.summary[key]) && scenarios.summary[key]! > 0]).toEqual([key, true]);
    }
    // The responder holds each answer at least its configured delay.
    expect(scenarios.summary.latencyHeldMs).toBeGreaterThanOrEqual(scenarios.settings.latencyMs);
    // Uneven shares: every certificate of both hosts fetched once, within the limit, each host's finish read from the log.
    const uneven = scenarios.unevenRuns[0]!;
    expect(uneven.staplerd.requests).toBe(scenarios.settings.unevenHosts.reduce((sum, host) => sum + host.certs, 0));
    expect(uneven.staplerd.maxInFlight).toBeLessThanOrEqual(PER_HOST_LIMIT);
    expect(uneven.lastStapleByHostMs).toHaveLength(scenarios.settings.unevenHosts.length);
    for (const doneMs of uneven.lastStapleByHostMs) expect(doneMs).toBeGreaterThanOrEqual(0);
    expect(Math.max(...uneven.lastStapleByHostMs)).toBe(uneven.staplerd.fetchPhaseMs);
    for (const key of ['unevenBoundMs', 'unevenStaplerdMs', 'unevenFastHostDeadTimeMs']) {
      expect([key, Number.isFinite(scenarios.summary[key]) && scenarios.summary[key]! > 0]).toEqual([key, true]);
    }
    expect(markdown).toContain('uneven shares');
    expect(scenarios.targets.map((target) => target.holds)).toHaveLength(5);
    expect(markdown).toContain('Issue 13 scenarios');
  });

  it('writes the table as Markdown with each contender and ratio', () => {
    for (const text of ['staplerd `once`, cold', 'warm restart', 'daemon.ready', 'floor', 'openssl ocsp', 'easy-ocsp', 'staplerd / floor', 'shell loop / staplerd', 'easy-ocsp / staplerd', `${result.machine.cores} cores`]) {
      expect(markdown).toContain(text);
    }
  });
});
