// Issue 13's scenarios: a latency-bound cold pass (one responder d ms away, against the N*d/P bound and easy-ocsp with
// the same P workers), five responders at different delays sharing one pass, a fast host with many certificates beside
// a slow one with few, and a small daemon's settled memory.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildResponderSetup, createBenchAuthority, writeLeafCertificates, type Manifest } from './generate-certificates.js';
import { measureSettledRss, runMeasuredNode } from './measure-process.js';
import type { Figures } from './report.js';
import { BenchResponder } from './responder-client.js';
import type { ResponderStats } from './responder-protocol.js';


export interface ScenarioSettings {
  /** Certificates of the latency-bound pass (issue 13: 1,000). */
  readonly latencyCerts: number;
  /** The responder's delay per request in the latency-bound pass (issue 13: 50 ms). */
  readonly latencyMs: number;
  /** One responder per delay, `latencyCerts / delays.length` certificates each (issue 13: 10, 25, 50, 100, 200). */
  readonly multiHostDelaysMs: readonly number[];
  /** Uneven shares: a fast host with many certificates beside a slow one with few (session 7: 800 at 10 ms, 100 at
   *  200 ms, bound 5 s by the slow host); the fast one must not go at the slow one's pace. */
  readonly unevenHosts: readonly { readonly certs: number; readonly delayMs: number }[];
  /** Certificates of the small daemon (issue 13: 10) and when its resident memory is read (issue 13: 10 s). */
  readonly smallCerts: number;
  readonly settleMs: number;
  readonly perHostConcurrency: number;
  readonly concurrency: number;
  readonly runs: number;
}

export interface ScenarioResult {
  readonly settings: ScenarioSettings;
  /** Per run: staplerd's cold pass, easy-ocsp with P workers and the floor (no PKI), one responder `latencyMs` away. */
  readonly latencyRuns: readonly { staplerd: Figures; easyOcsp: Figures; floor: Figures }[];
  /**
   * Per run: staplerd's cold pass over all hosts, the most requests each host saw open at once, and each host's dead
   * time per request (ms; mean gap from an answer to the next request on a connection), in `multiHostDelaysMs` order.
   */
  readonly multiHostRuns: readonly { staplerd: Figures; maxInFlightByHost: readonly number[]; deadTimeByHostMs: readonly number[] }[];
  /** Per run: the uneven-shares pass, and per host (in `unevenHosts` order) its staples' span from the pass's first
   *  staple to the host's last (ms) and its dead time per request (ms). */
  readonly unevenRuns: readonly { staplerd: Figures; lastStapleByHostMs: readonly number[]; deadTimeByHostMs: readonly number[] }[];
  /** Cold: no staples at start (what the target is stated for); warm: restarted over the staples the cold one wrote. */
  readonly smallDaemonRuns: readonly { daemonRssKb: number; warmDaemonRssKb: number; bareNodeRssKb: number }[];
  readonly summary: Figures;
  readonly targets: readonly { name: string; measured: string; holds: boolean }[];
}

interface Host {
  readonly responder: BenchResponder;
  readonly manifest: Manifest;
  readonly manifestFile: string;
  readonly delayMs: number;
}

/** A CA of its own (so serials never collide across hosts), its responder `delayMs` away and `count` leaves. */
async function prepareHost(dir: string, count: number, delayMs: number, now: Date): Promise<Host> {
  const authority = await createBenchAuthority(now);
  const responder = await BenchResponder.start();
  const preSigned = responder.preSign(buildResponderSetup(authority, count, delayMs, now));
  const manifest = await writeLeafCertificates(authority, dir, count, { ocspUrl: responder.url, caIssuersUrl: `${responder.url}ca.der` }, now);
  await preSigned;
  const manifestFile = join(dir, 'manifest.json');
  await writeFile(manifestFile, JSON.stringify(manifest));
  return { responder, manifest, manifestFile, delayMs };
}

async function removeStaples(hosts: readonly Host[], stateDir: string): Promise<void> {
  for (const host of hosts) await Promise.all(host.manifest.entries.map((entry) => rm(entry.stapleFile, { force: true })));
  await rm(stateDir, { recursive: true, force: true });
}

function staplerdArgs(command: 'once' | 'run', certDirs: readonly string[], stateDir: string, settings: ScenarioSettings): string[] {
  return [
    command,
    ...certDirs.flatMap((dir) => ['--certs', dir]),
    '--state-dir', stateDir,
    '--concurrency', String(settings.concurrency),
    '--per-host-concurrency', String(settings.perHostConcurrency),
    '--log-format', 'json',
  ];
}

async function runStaplerdOnce(
  staplerd: string,
  hosts: readonly Host[],
  workDir: string,
  stateDir: string,
  settings: ScenarioSettings,
  label: string,
): Promise<{ figures: Figures; seen: ResponderStats[]; lastStapleByHostMs: number[] }> {
  await removeStaples(hosts, stateDir);
  await Promise.all(hosts.map((host) => host.responder.reset()));
  const run = await runMeasuredNode(staplerd, staplerdArgs('once', hosts.map((host) => host.manifest.certsDir), stateDir, settings), { workDir, label });
  const seen = await Promise.all(hosts.map((host) => host.responder.stats()));
  if (run.exitCode !== 0) throw new Error(`staplerd once (${label}) exited with ${run.exitCode}; see ${join(workDir, `${label}.stderr`)}`);
  const writes = await readStapleWrites(join(workDir, `${label}.stderr`));
  const written = writes.map((write) => write.atMs);
  const firstMs = Math.min(...written);
  return {
    figures: {
      wallMs: run.wallMs,
      // From the first staple written to the last: the fetch phase without start-up and discovery (log timestamps, ms).
      fetchPhaseMs: written.length > 0 ? Math.max(...written) - firstMs : NaN,
      cpuMs: run.userCpuMs + run.systemCpuMs,
      peakRssKb: run.maxRssKb,
      requests: seen.reduce((sum, stats) => sum + stats.ocspRequests, 0),
      maxInFlight: Math.max(...seen.map((stats) => stats.maxInFlight)),
      ...connectionFigures(seen),
    },
    seen,
    // Per host, from the pass's first staple written to that host's last: when each host was done.
    lastStapleByHostMs: hosts.map((host) => Math.max(...writes.filter((write) => write.staple.startsWith(`${host.manifest.certsDir}/`)).map((write) => write.atMs)) - firstMs),
  };
}

/** A sweep script (easy-ocsp, the floor) over one host's manifest with `workers` workers and `perHost` slots. */
async function runSweep(script: string, host: Host, workDir: string, stateDir: string, workers: number, perHost: number, label: string): Promise<Figures> {
  await removeStaples([host], stateDir);
  await host.responder.reset();
  const run = await runMeasuredNode(script, [host.manifestFile, String(workers), String(perHost)], { workDir, label });
  const seen = await host.responder.stats();
  if (run.exitCode !== 0) throw new Error(`${label} exited with ${run.exitCode}; see ${join(workDir, `${label}.stderr`)}`);
  const usage = { wallMs: run.wallMs, cpuMs: run.userCpuMs + run.systemCpuMs, peakRssKb: run.maxRssKb };
  return { ...usage, requests: seen.ocspRequests, maxInFlight: seen.maxInFlight, ...connectionFigures([seen]) };
}

/**
 * What the responders saw of a client (responder-process.ts): its dead time per request (a slot idle between an
 * answer and the next request; mean over all connections), how long the responders held each request (mean), and
 * when its first request arrived after spawn (start-up, walk and first parse until the first fetch).
 */
function connectionFigures(seen: readonly ResponderStats[]): Figures {
  const gaps = seen.reduce((sum, stats) => ({ count: sum.count + stats.idleGapMs.count, totalMs: sum.totalMs + stats.idleGapMs.totalMs }), { count: 0, totalMs: 0 });
  const held = seen.reduce((sum, stats) => ({ count: sum.count + stats.heldMs.count, totalMs: sum.totalMs + stats.heldMs.totalMs }), { count: 0, totalMs: 0 });
  return {
    deadTimePerRequestMs: gaps.count > 0 ? gaps.totalMs / gaps.count : NaN,
    heldPerRequestMs: held.count > 0 ? held.totalMs / held.count : NaN,
    firstRequestMs: Math.min(...seen.map((stats) => stats.firstOcspRequestMs)),
  };
}

/** The `staple.written` events of a JSON log: when (ms since the epoch) and which staple. */
async function readStapleWrites(logFile: string): Promise<{ atMs: number; staple: string }[]> {
  const writes: { atMs: number; staple: string }[] = [];
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    if (!line.includes('"staple.written"')) continue;
    const { timestamp, staple } = JSON.parse(line) as { timestamp?: string; staple?: string };
    if (timestamp !== undefined) writes.push({ atMs: Date.parse(timestamp), staple: staple ?? '' });
  }
  return writes;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export async function runLatencyScenarios(
  paths: { staplerd: string; easyOcsp: string; floor: string; workDir: string },
  settings: ScenarioSettings,
  log: (message: string) => void,
): Promise<ScenarioResult> {
  const now = new Date();
  const base = join(paths.workDir, 'scenarios');
  await mkdir(base, { recursive: true });
  const stateDir = join(base, 'state');
  const hosts: Host[] = [];
  try {
    const single = await prepareHost(join(base, 'latency'), settings.latencyCerts, settings.latencyMs, now);
    hosts.push(single);
    const perHost = Math.floor(settings.latencyCerts / settings.multiHostDelaysMs.length);
    const multi: Host[] = [];
    for (const [index, delayMs] of settings.multiHostDelaysMs.entries()) multi.push(await prepareHost(join(base, `host-${index}`), perHost, delayMs, now));
    hosts.push(...multi);
    const uneven: Host[] = [];
    for (const [index, { certs, delayMs }] of settings.unevenHosts.entries()) uneven.push(await prepareHost(join(base, `uneven-${index}`), certs, delayMs, now));
    hosts.push(...uneven);
    const small = await prepareHost(join(base, 'small'), settings.smallCerts, 0, now);
    hosts.push(small);

    const latencyRuns: { staplerd: Figures; easyOcsp: Figures; floor: Figures }[] = [];
    const multiHostRuns: { staplerd: Figures; maxInFlightByHost: number[]; deadTimeByHostMs: number[] }[] = [];
    const unevenRuns: { staplerd: Figures; lastStapleByHostMs: number[]; deadTimeByHostMs: number[] }[] = [];
    const smallDaemonRuns: { daemonRssKb: number; warmDaemonRssKb: number; bareNodeRssKb: number }[] = [];
    for (let run = 0; run < settings.runs; run += 1) {
      log(`scenarios run ${run + 1}/${settings.runs}: ${settings.latencyCerts} certificates, responder ${settings.latencyMs} ms away`);
      const staplerd = (await runStaplerdOnce(paths.staplerd, [single], base, stateDir, settings, `latency-${run}`)).figures;
      log(`  staplerd ${(staplerd.wallMs! / 1000).toFixed(2)} s (max in flight ${staplerd.maxInFlight}); easy-ocsp with ${settings.perHostConcurrency} workers`);
      // The same P workers as staplerd's per-host limit, each holding its slot for fetch and validation (easy-ocsp's one call).
      const easyOcsp = await runSweep(paths.easyOcsp, single, base, stateDir, settings.perHostConcurrency, settings.perHostConcurrency, `latency-easy-ocsp-${run}`);
      log(`  easy-ocsp ${(easyOcsp.wallMs! / 1000).toFixed(2)} s; floor (node:http, no PKI) with ${settings.perHostConcurrency} sockets`);
      // What this machine allows any client at its current load: the same requests and writes, nothing else.
      const floor = await runSweep(paths.floor, single, base, stateDir, settings.concurrency, settings.perHostConcurrency, `latency-floor-${run}`);
      log(`  floor ${(floor.wallMs! / 1000).toFixed(2)} s; ${multi.length} hosts at ${settings.multiHostDelaysMs.join('/')} ms`);
      latencyRuns.push({ staplerd, easyOcsp, floor });
      const shared = await runStaplerdOnce(paths.staplerd, multi, base, stateDir, settings, `multi-host-${run}`);
      log(`  multi-host ${(shared.figures.wallMs! / 1000).toFixed(2)} s; uneven shares ${describeUneven(settings)}`);
      multiHostRuns.push({
        staplerd: shared.figures,
        maxInFlightByHost: shared.seen.map((stats) => stats.maxInFlight),
        deadTimeByHostMs: shared.seen.map((stats) => connectionFigures([stats]).deadTimePerRequestMs!),
      });
      const unevenPass = await runStaplerdOnce(paths.staplerd, uneven, base, stateDir, settings, `uneven-${run}`);
      const { lastStapleByHostMs } = unevenPass;
      log(`  uneven shares ${(unevenPass.figures.wallMs! / 1000).toFixed(2)} s, hosts done after ${lastStapleByHostMs.map((value) => (value / 1000).toFixed(2)).join(' / ')} s; small daemon (${settings.smallCerts} certificates) after ${settings.settleMs / 1000} s`);
      unevenRuns.push({
        staplerd: unevenPass.figures,
        lastStapleByHostMs,
        deadTimeByHostMs: unevenPass.seen.map((stats) => connectionFigures([stats]).deadTimePerRequestMs!),
      });
      await removeStaples([small], stateDir);
      // Side by side, so both see the same machine load.
      const [daemonRssKb, bareNodeRssKb] = await Promise.all([
        measureSettledRss(paths.staplerd, staplerdArgs('run', [small.manifest.certsDir], stateDir, settings), { afterMs: settings.settleMs }),
        measureSettledRss(undefined, [], { afterMs: settings.settleMs }),
      ]);
      // Restarted over the staples it wrote: no request, so nothing that only a fetch needs should be loaded.
      const warmDaemonRssKb = await measureSettledRss(paths.staplerd, staplerdArgs('run', [small.manifest.certsDir], stateDir, settings), { afterMs: settings.settleMs });
      log(`  small daemon ${(daemonRssKb / 1024).toFixed(1)} MiB (restarted over fresh staples ${(warmDaemonRssKb / 1024).toFixed(1)} MiB), bare node ${(bareNodeRssKb / 1024).toFixed(1)} MiB`);
      smallDaemonRuns.push({ daemonRssKb, warmDaemonRssKb, bareNodeRssKb });
    }

    const boundMs = (count: number, delayMs: number): number => (count * delayMs) / settings.perHostConcurrency;
    const latencyBoundMs = boundMs(settings.latencyCerts, settings.latencyMs);
    const slowestBoundMs = Math.max(...settings.multiHostDelaysMs.map((delayMs) => boundMs(perHost, delayMs)));
    const unevenBoundMs = Math.max(...settings.unevenHosts.map(({ certs, delayMs }) => boundMs(certs, delayMs)));
    const summary: Figures = {
      latencyBoundMs,
      latencyStaplerdMs: median(latencyRuns.map((run) => run.staplerd.wallMs!)),
      latencyFetchPhaseMs: median(latencyRuns.map((run) => run.staplerd.fetchPhaseMs!)),
      latencyEasyOcspMs: median(latencyRuns.map((run) => run.easyOcsp.wallMs!)),
      latencyFloorMs: median(latencyRuns.map((run) => run.floor.wallMs!)),
      latencyDeadTimeMs: median(latencyRuns.map((run) => run.staplerd.deadTimePerRequestMs!)),
      latencyFloorDeadTimeMs: median(latencyRuns.map((run) => run.floor.deadTimePerRequestMs!)),
      latencyEasyOcspDeadTimeMs: median(latencyRuns.map((run) => run.easyOcsp.deadTimePerRequestMs!)),
      latencyHeldMs: median(latencyRuns.map((run) => run.staplerd.heldPerRequestMs!)),
      latencyFirstRequestMs: median(latencyRuns.map((run) => run.staplerd.firstRequestMs!)),
      latencyFloorFirstRequestMs: median(latencyRuns.map((run) => run.floor.firstRequestMs!)),
      multiHostFirstRequestMs: median(multiHostRuns.map((run) => run.staplerd.firstRequestMs!)),
      latencyMaxInFlight: Math.max(...latencyRuns.map((run) => run.staplerd.maxInFlight!)),
      multiHostSlowestBoundMs: slowestBoundMs,
      multiHostStaplerdMs: median(multiHostRuns.map((run) => run.staplerd.wallMs!)),
      multiHostFetchPhaseMs: median(multiHostRuns.map((run) => run.staplerd.fetchPhaseMs!)),
      multiHostMaxInFlight: Math.max(...multiHostRuns.map((run) => run.staplerd.maxInFlight!)),
      unevenBoundMs,
      unevenStaplerdMs: median(unevenRuns.map((run) => run.staplerd.wallMs!)),
      unevenFetchPhaseMs: median(unevenRuns.map((run) => run.staplerd.fetchPhaseMs!)),
      // The first host is the fast one with many certificates: when it was done, and its dead time per request.
      unevenFastHostDoneMs: median(unevenRuns.map((run) => run.lastStapleByHostMs[0]!)),
      unevenFastHostDeadTimeMs: median(unevenRuns.map((run) => run.deadTimeByHostMs[0]!)),
      unevenMaxInFlight: Math.max(...unevenRuns.map((run) => run.staplerd.maxInFlight!)),
      smallDaemonRssKb: median(smallDaemonRuns.map((run) => run.daemonRssKb)),
      smallWarmDaemonRssKb: median(smallDaemonRuns.map((run) => run.warmDaemonRssKb)),
      bareNodeRssKb: median(smallDaemonRuns.map((run) => run.bareNodeRssKb)),
    };
    const ratio = (a: number, b: number): number => a / b;
    const latencyOverBound = ratio(summary.latencyStaplerdMs!, latencyBoundMs);
    const easyOverStaplerd = ratio(summary.latencyEasyOcspMs!, summary.latencyStaplerdMs!);
    const multiOverBound = ratio(summary.multiHostStaplerdMs!, slowestBoundMs);
    const rssRatio = ratio(summary.smallDaemonRssKb!, summary.bareNodeRssKb!);
    const maxInFlight = Math.max(summary.latencyMaxInFlight!, summary.multiHostMaxInFlight!, summary.unevenMaxInFlight!);
    const targets = [
      { name: `latency-bound pass within 1.05× of N·d/P (${(latencyBoundMs / 1000).toFixed(2)} s)`, measured: `${latencyOverBound.toFixed(3)}×`, holds: latencyOverBound <= 1.05 },
      { name: 'never more than P in flight per host', measured: `${maxInFlight} (P = ${settings.perHostConcurrency})`, holds: maxInFlight <= settings.perHostConcurrency },
      { name: `≥ 1.3× faster than easy-ocsp with ${settings.perHostConcurrency} workers`, measured: `${easyOverStaplerd.toFixed(2)}×`, holds: easyOverStaplerd >= 1.3 },
      { name: `${settings.multiHostDelaysMs.length} hosts within 1.1× of the slowest host's own bound (${(slowestBoundMs / 1000).toFixed(2)} s)`, measured: `${multiOverBound.toFixed(3)}×`, holds: multiOverBound <= 1.1 },
      { name: `small daemon RSS after ${settings.settleMs / 1000} s ≤ 1.5× a bare idle node`, measured: `${rssRatio.toFixed(2)}×`, holds: rssRatio <= 1.5 },
    ];
    return { settings, latencyRuns, multiHostRuns, unevenRuns, smallDaemonRuns, summary, targets };
  } finally {
    await Promise.all(hosts.map((host) => host.responder.stop()));
  }
}

/** "800 certificates at 10 ms beside 100 at 200 ms" */
function describeUneven(settings: ScenarioSettings): string {
  return settings.unevenHosts.map(({ certs, delayMs }, index) => `${certs}${index === 0 ? ' certificates' : ''} at ${delayMs} ms`).join(' beside ');
}

export function formatScenarios(result: ScenarioResult): string {
  const { settings, summary } = result;
  const seconds = (ms: number | undefined): string => ((ms ?? NaN) / 1000).toFixed(2);
  const mib = (kb: number | undefined): string => ((kb ?? NaN) / 1024).toFixed(1);
  const ms = (value: number | undefined): string => (value ?? NaN).toFixed(2);
  const lines = [
    `## Issue 13 scenarios (medians of ${settings.runs} run(s))`,
    '',
    `| scenario | measured | bound or baseline |`,
    '| --- | ---: | ---: |',
    `| staplerd \`once\`, ${settings.latencyCerts} certificates, one responder ${settings.latencyMs} ms away | ${seconds(summary.latencyStaplerdMs)} s | N·d/P = ${seconds(summary.latencyBoundMs)} s |`,
    `| the same pass from its first staple written to its last (start-up and discovery left out) | ${seconds(summary.latencyFetchPhaseMs)} s | |`,
    `| easy-ocsp, same certificates, ${settings.perHostConcurrency} workers | ${seconds(summary.latencyEasyOcspMs)} s | |`,
    `| floor (node:http GET and atomic write, no PKI, ${settings.perHostConcurrency} sockets), same responder | ${seconds(summary.latencyFloorMs)} s | N·d/P = ${seconds(summary.latencyBoundMs)} s |`,
    `| staplerd's dead time per request (a slot idle from an answer to the next request), mean | ${ms(summary.latencyDeadTimeMs)} ms | floor: ${ms(summary.latencyFloorDeadTimeMs)} ms, easy-ocsp: ${ms(summary.latencyEasyOcspDeadTimeMs)} ms |`,
    `| the responder's hold per request (its ${settings.latencyMs} ms timer and its own work), mean | ${ms(summary.latencyHeldMs)} ms | N·(hold)/P = ${seconds((settings.latencyCerts * summary.latencyHeldMs!) / settings.perHostConcurrency)} s |`,
    `| spawn to staplerd's first request | ${seconds(summary.latencyFirstRequestMs)} s | floor: ${seconds(summary.latencyFloorFirstRequestMs)} s |`,
    `| staplerd \`once\`, ${settings.multiHostDelaysMs.length} responders at ${settings.multiHostDelaysMs.join('/')} ms, ${Math.floor(settings.latencyCerts / settings.multiHostDelaysMs.length)} certificates each | ${seconds(summary.multiHostStaplerdMs)} s | slowest host alone: ${seconds(summary.multiHostSlowestBoundMs)} s |`,
    `| the same pass from its first staple written to its last | ${seconds(summary.multiHostFetchPhaseMs)} s | |`,
    `| spawn to the first request of that pass | ${seconds(summary.multiHostFirstRequestMs)} s | |`,
    `| staplerd \`once\`, uneven shares: ${describeUneven(settings)} | ${seconds(summary.unevenStaplerdMs)} s | slow host alone: ${seconds(summary.unevenBoundMs)} s |`,
    `| the same pass from its first staple written to its last; the fast host's last staple | ${seconds(summary.unevenFetchPhaseMs)} s; ${seconds(summary.unevenFastHostDoneMs)} s | |`,
    `| the fast host's dead time per request, mean | ${ms(summary.unevenFastHostDeadTimeMs)} ms | |`,
    `| staplerd \`run\`, ${settings.smallCerts} certificates, RSS after ${settings.settleMs / 1000} s | ${mib(summary.smallDaemonRssKb)} MiB | bare idle node: ${mib(summary.bareNodeRssKb)} MiB |`,
    `| the same daemon restarted over its fresh staples (no request), RSS after ${settings.settleMs / 1000} s | ${mib(summary.smallWarmDaemonRssKb)} MiB | |`,
    '',
    'Per run (wall s): latency-bound staplerd ' + result.latencyRuns.map((run) => seconds(run.staplerd.wallMs)).join(', ') +
      '; easy-ocsp ' + result.latencyRuns.map((run) => seconds(run.easyOcsp.wallMs)).join(', ') +
      '; floor ' + result.latencyRuns.map((run) => seconds(run.floor.wallMs)).join(', ') +
      '; multi-host ' + result.multiHostRuns.map((run) => `${seconds(run.staplerd.wallMs)} (max in flight per host ${run.maxInFlightByHost.join('/')})`).join(', ') +
      '; uneven shares ' + result.unevenRuns.map((run) => `${seconds(run.staplerd.wallMs)} (hosts done after ${run.lastStapleByHostMs.map(seconds).join('/')} s)`).join(', ') +
      '; small daemon cold / restarted / bare node MiB ' + result.smallDaemonRuns.map((run) => `${mib(run.daemonRssKb)}/${mib(run.warmDaemonRssKb)}/${mib(run.bareNodeRssKb)}`).join(', ') + '.',
    '',
    '| target | measured | holds |',
    '| --- | ---: | :---: |',
    ...result.targets.map((target) => `| ${target.name} | ${target.measured} | ${target.holds ? 'yes' : '**no**'} |`),
    '',
  ];
  return lines.join('\n');
}
