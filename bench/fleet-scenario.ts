// Issue 11's fleet scenario: H hosts (staplerd `once` processes, each with its own --out and state dir) over the same
// N certificates, one responder d ms away, sharing a real redis-server: requests at the responder (target N, against
// H x N without --fleet), time until every host holds every staple (target within 1.2x one host's cold pass), and
// Redis memory (INFO memory used_memory).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildResponderSetup, createBenchAuthority, writeLeafCertificates } from './generate-certificates.js';
import { runMeasuredNode, type MeasuredRun } from './measure-process.js';
import { BenchResponder } from './responder-client.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';

export interface FleetSettings {
  readonly hosts: number;
  readonly certs: number;
  readonly latencyMs: number;
  readonly concurrency: number;
  readonly perHostConcurrency: number;
}

export interface FleetResult {
  readonly settings: FleetSettings;
  readonly skipped?: string;
  readonly singleHost?: { wallMs: number; requests: number };
  readonly withoutFleet?: { wallMs: number; requests: number };
  readonly withFleet?: { wallMs: number; requests: number; redisUsedMemoryBytes: number; redisBytesPerCertificate: number };
  readonly targets: readonly { name: string; measured: string; holds: boolean }[];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function redisCli(port: number, args: readonly string[]): string {
  return execFileSync(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
}

async function startRedis(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let attempt = 0; ; attempt++) {
    try {
      if (redisCli(port, ['ping']).trim() === 'PONG') return { port, child };
    } catch {
      // not listening yet
    }
    if (attempt > 100) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function usedMemory(port: number): number {
  return Number(/used_memory:(\d+)/.exec(redisCli(port, ['INFO', 'memory']))![1]);
}

export async function runFleetScenario(paths: { staplerd: string; workDir: string }, settings: FleetSettings, log: (message: string) => void): Promise<FleetResult> {
  if (!existsSync(REDIS_SERVER) || !existsSync(REDIS_CLI)) return { settings, skipped: `${REDIS_SERVER} not found (Debian package redis-server)`, targets: [] };
  const now = new Date();
  const base = join(paths.workDir, 'fleet');
  await mkdir(base, { recursive: true });
  const authority = await createBenchAuthority(now);
  const responder = await BenchResponder.start();
  const redis = await startRedis(base);
  try {
    await responder.preSign(buildResponderSetup(authority, settings.certs, settings.latencyMs, now));
    const manifest = await writeLeafCertificates(authority, base, settings.certs, { ocspUrl: responder.url, caIssuersUrl: `${responder.url}ca.der` }, now);
    const hostArgs = (host: string, fleet: boolean): string[] => [
      'once', '--certs', manifest.certsDir, '--out', join(base, host, 'out'), '--state-dir', join(base, host, 'state'),
      '--concurrency', String(settings.concurrency), '--per-host-concurrency', String(settings.perHostConcurrency), '--log-format', 'json',
      ...(fleet ? ['--fleet', `redis://127.0.0.1:${redis.port}`] : []),
    ];
    const runHosts = async (label: string, count: number, fleet: boolean): Promise<{ wallMs: number; requests: number }> => {
      await Promise.all(Array.from({ length: count }, (_, i) => rm(join(base, `${label}-${i}`), { recursive: true, force: true })));
      await responder.reset();
      const startedAt = performance.now();
      const runs: MeasuredRun[] = await Promise.all(Array.from({ length: count }, (_, i) => runMeasuredNode(paths.staplerd, hostArgs(`${label}-${i}`, fleet), { workDir: base, label: `${label}-${i}` })));
      const wallMs = performance.now() - startedAt;
      const failed = runs.findIndex((run) => run.exitCode !== 0);
      if (failed >= 0) throw new Error(`${label} host ${failed} exited with ${runs[failed]!.exitCode}; see ${join(base, `${label}-${failed}.stderr`)}`);
      return { wallMs, requests: (await responder.stats()).ocspRequests };
    };
    log(`fleet: ${settings.certs} certificates, responder ${settings.latencyMs} ms away; one host's cold pass`);
    const singleHost = await runHosts('single', 1, false);
    log(`  ${(singleHost.wallMs / 1000).toFixed(2)} s, ${singleHost.requests} requests; ${settings.hosts} hosts without --fleet`);
    const withoutFleet = await runHosts('alone', settings.hosts, false);
    log(`  ${(withoutFleet.wallMs / 1000).toFixed(2)} s, ${withoutFleet.requests} requests; ${settings.hosts} hosts with --fleet`);
    redisCli(redis.port, ['FLUSHALL']);
    const memoryBefore = usedMemory(redis.port);
    const shared = await runHosts('fleet', settings.hosts, true);
    const redisUsedMemoryBytes = usedMemory(redis.port);
    const withFleet = { ...shared, redisUsedMemoryBytes, redisBytesPerCertificate: Math.round((redisUsedMemoryBytes - memoryBefore) / settings.certs) };
    log(`  ${(withFleet.wallMs / 1000).toFixed(2)} s, ${withFleet.requests} requests, Redis ${(redisUsedMemoryBytes / 1024 / 1024).toFixed(1)} MiB`);
    const ratio = withFleet.wallMs / singleHost.wallMs;
    const targets = [
      { name: `${settings.hosts} hosts with --fleet make exactly ${settings.certs} requests`, measured: String(withFleet.requests), holds: withFleet.requests === settings.certs },
      { name: `every host holds every staple within 1.2x one host's cold pass (${(singleHost.wallMs / 1000).toFixed(2)} s)`, measured: `${ratio.toFixed(2)}x`, holds: ratio <= 1.2 },
    ];
    return { settings, singleHost, withoutFleet, withFleet, targets };
  } finally {
    redis.child.kill('SIGKILL');
    await responder.stop();
  }
}

export function formatFleetScenario(result: FleetResult): string {
  const { settings } = result;
  if (result.skipped) return `## Fleet scenario (issue 11)\n\nSkipped: ${result.skipped}.\n`;
  const s = (ms: number | undefined): string => ((ms ?? NaN) / 1000).toFixed(2);
  return [
    `## Fleet scenario (issue 11): ${settings.hosts} hosts, ${settings.certs} certificates, one responder ${settings.latencyMs} ms away`,
    '',
    '| run | wall time until every host holds every staple | requests at the responder |',
    '| --- | ---: | ---: |',
    `| one host, cold pass | ${s(result.singleHost?.wallMs)} s | ${result.singleHost?.requests} |`,
    `| ${settings.hosts} hosts without --fleet | ${s(result.withoutFleet?.wallMs)} s | ${result.withoutFleet?.requests} |`,
    `| ${settings.hosts} hosts with --fleet (one redis-server) | ${s(result.withFleet?.wallMs)} s | ${result.withFleet?.requests} |`,
    '',
    `Redis used_memory after the fleet run: ${((result.withFleet?.redisUsedMemoryBytes ?? NaN) / 1024 / 1024).toFixed(2)} MiB (${result.withFleet?.redisBytesPerCertificate} bytes per certificate).`,
    '',
    '| target | measured | holds |',
    '| --- | ---: | :---: |',
    ...result.targets.map((target) => `| ${target.name} | ${target.measured} | ${target.holds ? 'yes' : '**no**'} |`),
    '',
  ].join('\n');
}
