// `npm run bench`: N certificates, a pre-signed local OCSP responder, and staplerd (cold, warm, daemon start) measured
// against the floor, a shell loop of `openssl ocsp` and easy-ocsp; medians of several runs to bench/results/.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../src/output/atomic-write.js';
import { summariseCpuProfile, type ProfileSummary } from './cpu-profile.js';
import { buildResponderSetup, createBenchAuthority, writeLeafCertificates, type Manifest } from './generate-certificates.js';
import { runDaemonUntilReady, runMeasuredNode, type MeasuredRun } from './measure-process.js';
import {
  checkPoliteness,
  computeMedians,
  computeRatios,
  describeResponder,
  evaluateTargets,
  formatMarkdown,
  runChecks,
  type BenchResult,
  type BenchSettings,
  type Figures,
  type MachineInfo,
  type RunFigures,
  type SetupFigures,
} from './report.js';
import { BenchResponder } from './responder-client.js';
import type { ResponderStats } from './responder-protocol.js';
import { runShellLoop } from './shell-loop.js';
import { formatScenarios, runLatencyScenarios, type ScenarioResult, type ScenarioSettings } from './latency-scenarios.js';
import { formatFleetScenario, runFleetScenario } from './fleet-scenario.js';

interface Context {
  readonly settings: BenchSettings;
  readonly workDir: string;
  readonly stateDir: string;
  readonly manifest: Manifest;
  readonly manifestFile: string;
  readonly responder: BenchResponder;
}

const STAPLERD = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor-sweep.js', import.meta.url));
const EASY_OCSP = fileURLToPath(new URL('./easy-ocsp-sweep.js', import.meta.url));
const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const DAEMON_READY_TIMEOUT_MS = 30 * 60 * 1000;

const USAGE = `usage: npm run bench -- [--quick] [--certs N] [--runs R] [--concurrency C] [--per-host-concurrency P]
                        [--shell-sample S] [--latency-ms L] [--out DIR] [--work-dir DIR] [--cpu-prof] [--keep]
                        [--node-flags FLAGS] [--only-scenarios] [--scenario-runs R]
  --quick          N = 200, 1 run, shell sample 20 (what CI runs)
  --certs N        certificates (default 10000)
  --runs R         runs; the table shows medians (default 3)
  --latency-ms L   the responder holds each answer L ms, like a network round trip (default 0)
  --cpu-prof       profile one extra cold pass and warm restart with node --cpu-prof and add summaries
  --node-flags F   extra node flags for the staplerd processes, e.g. "--max-old-space-size=512" (default none)
  --keep           keep the temp directory (certificates, staples, logs, profile)
  --only-scenarios skip the N-certificate runs, measure only issue 13's scenarios (latency-bound pass with 1,000
                   certificates 50 ms away, 5 responders at 10-200 ms, 10-certificate daemon's RSS after 10 s)
  --scenario-runs R  runs of the scenarios; medians (default 3, quick 1)
  --only-fleet     measure only issue 11's fleet scenario: 5 hosts, 1,000 certificates 50 ms away, one redis-server
                   (quick: 40 certificates, 5 ms); needs redis-server`;

function readSettings(argv: readonly string[]): {
  settings: BenchSettings;
  scenarios: ScenarioSettings;
  onlyScenarios: boolean;
  onlyFleet: boolean;
  outDir: string;
  workBase: string;
  cpuProf: boolean;
  keep: boolean;
} {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      certs: { type: 'string' },
      runs: { type: 'string' },
      concurrency: { type: 'string', default: '32' },
      'per-host-concurrency': { type: 'string', default: '4' },
      'shell-sample': { type: 'string' },
      'latency-ms': { type: 'string', default: '0' },
      out: { type: 'string' },
      'work-dir': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'node-flags': { type: 'string', default: '' },
      keep: { type: 'boolean', default: false },
      'only-scenarios': { type: 'boolean', default: false },
      'scenario-runs': { type: 'string' },
      'only-fleet': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick;
  const settings: BenchSettings = {
    mode: quick ? 'quick' : 'full',
    certificates: readPositive('--certs', values.certs ?? (quick ? '200' : '10000')),
    runs: readPositive('--runs', values.runs ?? (quick ? '1' : '3')),
    concurrency: readPositive('--concurrency', values.concurrency),
    perHostConcurrency: readPositive('--per-host-concurrency', values['per-host-concurrency']),
    shellSample: readPositive('--shell-sample', values['shell-sample'] ?? (quick ? '20' : '200')),
    responderLatencyMs: readNonNegative('--latency-ms', values['latency-ms']),
    ...(values['node-flags'].trim() ? { staplerdNodeFlags: values['node-flags'].trim().split(/\s+/) } : {}),
  };
  // Issue 13's figures; --quick shrinks them to a smoke test (a few certificates, millisecond delays, 2 s settle).
  const scenarios: ScenarioSettings = {
    latencyCerts: quick ? 40 : 1000,
    latencyMs: quick ? 5 : 50,
    multiHostDelaysMs: quick ? [1, 2, 3, 4, 5] : [10, 25, 50, 100, 200],
    unevenHosts: quick ? [{ certs: 40, delayMs: 1 }, { certs: 5, delayMs: 10 }] : [{ certs: 800, delayMs: 10 }, { certs: 100, delayMs: 200 }],
    smallCerts: quick ? 3 : 10,
    settleMs: quick ? 2000 : 10_000,
    concurrency: settings.concurrency,
    perHostConcurrency: settings.perHostConcurrency,
    runs: readPositive('--scenario-runs', values['scenario-runs'] ?? (quick ? '1' : '3')),
  };
  return { settings, scenarios, onlyScenarios: values['only-scenarios'], onlyFleet: values['only-fleet'], outDir: values.out ?? DEFAULT_RESULTS_DIR, workBase: values['work-dir'] ?? tmpdir(), cpuProf: values['cpu-prof'], keep: values.keep };
}

function readPositive(flag: string, value: string): number {
  const number = readNonNegative(flag, value);
  if (number < 1) throw new Error(`${flag} must be at least 1, got ${value}\n${USAGE}`);
  return number;
}

function readNonNegative(flag: string, value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`${flag} must be a whole number, got ${value}\n${USAGE}`);
  return number;
}

async function prepare(settings: BenchSettings, workBase: string): Promise<{ context: Context; setup: SetupFigures }> {
  const workDir = await mkdtemp(join(workBase, 'staplerd-bench-'));
  const now = new Date();
  const authority = await createBenchAuthority(now);
  const responder = await BenchResponder.start();
  const started = performance.now();
  // The responder signs in its own process while this one writes the certificates: two cores, two jobs.
  const preSigned = responder.preSign(buildResponderSetup(authority, settings.certificates, settings.responderLatencyMs, now));
  const manifest = await writeLeafCertificates(authority, workDir, settings.certificates, { ocspUrl: responder.url, caIssuersUrl: `${responder.url}ca.der` }, now);
  const generateMs = performance.now() - started;
  const report = await preSigned;
  const manifestFile = join(workDir, 'manifest.json');
  await writeFile(manifestFile, JSON.stringify(manifest));
  return {
    context: { settings, workDir, stateDir: join(workDir, 'state'), manifest, manifestFile, responder },
    setup: { generateMs, ...report },
  };
}

function staplerdArgs(context: Context, command: 'once' | 'run'): string[] {
  const { settings } = context;
  return [
    command,
    '--certs', context.manifest.certsDir,
    '--state-dir', context.stateDir,
    '--concurrency', String(settings.concurrency),
    '--per-host-concurrency', String(settings.perHostConcurrency),
    '--log-format', 'json',
  ];
}

/** No staples, no temp files, no state: every contender starts from the same cold tree. */
async function resetTree(context: Context): Promise<void> {
  await Promise.all(context.manifest.entries.map((entry) => rm(entry.stapleFile, { force: true })));
  for (const dir of await readdir(context.manifest.certsDir)) {
    const full = join(context.manifest.certsDir, dir);
    for (const name of await readdir(full)) if (name.endsWith('.tmp')) await rm(join(full, name), { force: true });
  }
  await rm(context.stateDir, { recursive: true, force: true });
}

async function countStaples(context: Context): Promise<number> {
  const present = await Promise.all(context.manifest.entries.map((entry) => stat(entry.stapleFile).then((s) => s.size > 0, () => false)));
  return present.filter(Boolean).length;
}

/** Resets the responder's counters, runs `measure`, and returns its result with what the responder saw meanwhile. */
async function withResponderStats<T>(context: Context, measure: () => Promise<T>): Promise<{ result: T; seen: ResponderStats }> {
  await context.responder.reset();
  const result = await measure();
  return { result, seen: await context.responder.stats() };
}

function processFigures(run: MeasuredRun, certificates: number): Figures {
  const cpuMs = run.userCpuMs + run.systemCpuMs;
  return {
    wallMs: run.wallMs,
    certsPerSecond: (certificates * 1000) / run.wallMs,
    cpuMs,
    cpuMsPerCert: cpuMs / certificates,
    peakRssKb: run.maxRssKb,
  };
}

function responderFigures(seen: ResponderStats): Figures {
  return {
    requests: seen.ocspRequests,
    unknownOrMalformed: seen.unknownOrMalformed,
    maxInFlight: seen.maxInFlight,
    responderCpuUsPerRequest: seen.ocspRequests > 0 ? (seen.cpuUserUs + seen.cpuSystemUs) / seen.ocspRequests : NaN,
  };
}

async function measureStaplerdOnce(context: Context, label: string, nodeFlags: readonly string[] = []): Promise<Figures> {
  const { result: run, seen } = await withResponderStats(context, () =>
    runMeasuredNode(STAPLERD, staplerdArgs(context, 'once'), { workDir: context.workDir, label, nodeFlags: [...(context.settings.staplerdNodeFlags ?? []), ...nodeFlags] }),
  );
  if (run.exitCode !== 0) throw new Error(`staplerd once (${label}) exited with ${run.exitCode}; see ${join(context.workDir, `${label}.stderr`)}`);
  return { ...processFigures(run, context.settings.certificates), ...responderFigures(seen), stapled: await countStaples(context) };
}

async function measureDaemonStart(context: Context, runIndex: number): Promise<Figures> {
  const { result: start, seen } = await withResponderStats(context, () =>
    runDaemonUntilReady(STAPLERD, staplerdArgs(context, 'run'), {
      workDir: context.workDir,
      label: `daemon-${runIndex}`,
      timeoutMs: DAEMON_READY_TIMEOUT_MS,
      nodeFlags: context.settings.staplerdNodeFlags,
    }),
  );
  return {
    readyMs: start.readyMs,
    cpuMs: start.cpuMsAtReady,
    cpuMsPerCert: start.cpuMsAtReady / context.settings.certificates,
    rssKbAtReady: start.rssKbAtReady,
    peakRssKbAtReady: start.peakRssKbAtReady,
    exitCode: start.exitCode ?? NaN,
    ...responderFigures(seen),
  };
}

async function measureSweep(context: Context, script: string, label: string): Promise<Figures> {
  const { settings } = context;
  const { result: run, seen } = await withResponderStats(context, () =>
    runMeasuredNode(script, [context.manifestFile, String(settings.concurrency), String(settings.perHostConcurrency)], { workDir: context.workDir, label }),
  );
  if (run.exitCode !== 0) throw new Error(`${label} exited with ${run.exitCode}; see ${join(context.workDir, `${label}.stderr`)}`);
  const summary = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { ok?: number; failed?: number; firstError?: string };
  if (summary.failed) process.stderr.write(`${label}: ${summary.failed} failed, first: ${summary.firstError}\n`);
  return { ...processFigures(run, settings.certificates), ...responderFigures(seen), ok: summary.ok ?? 0, stapled: await countStaples(context) };
}

async function measureShellLoop(context: Context): Promise<Figures> {
  const { result: loop, seen } = await withResponderStats(context, () => runShellLoop(context.manifest, context.settings.shellSample, context.workDir));
  const msPerCert = loop.wallMs / loop.sample;
  return {
    sample: loop.sample,
    ok: loop.ok,
    wallMs: loop.wallMs,
    projectedWallMs: msPerCert * context.settings.certificates,
    certsPerSecond: 1000 / msPerCert,
    cpuMsPerCert: loop.cpuMs / loop.sample,
    ...responderFigures(seen),
  };
}

async function runOnce(context: Context, runIndex: number): Promise<RunFigures> {
  log(`run ${runIndex + 1}/${context.settings.runs}: staplerd once (cold)`);
  await resetTree(context);
  const cold = await measureStaplerdOnce(context, `cold-${runIndex}`);
  log(`  cold ${(cold.wallMs! / 1000).toFixed(2)} s, ${cold.stapled} staples; warm restart`);
  const warm = await measureStaplerdOnce(context, `warm-${runIndex}`);
  log(`  warm ${(warm.wallMs! / 1000).toFixed(2)} s, ${warm.requests} requests; daemon start`);
  const daemon = await measureDaemonStart(context, runIndex);
  log(`  daemon ready after ${(daemon.readyMs! / 1000).toFixed(2)} s; floor`);
  await resetTree(context);
  const floor = await measureSweep(context, FLOOR, `floor-${runIndex}`);
  log(`  floor ${(floor.wallMs! / 1000).toFixed(2)} s; easy-ocsp`);
  await resetTree(context);
  const easyOcsp = await measureSweep(context, EASY_OCSP, `easy-ocsp-${runIndex}`);
  log(`  easy-ocsp ${(easyOcsp.wallMs! / 1000).toFixed(2)} s; shell loop over ${context.settings.shellSample}`);
  await resetTree(context);
  const shellLoop = await measureShellLoop(context);
  log(`  shell loop ${(shellLoop.wallMs! / 1000).toFixed(2)} s for ${shellLoop.sample}`);
  await resetTree(context);
  return { cold, warm, daemon, floor, easyOcsp, shellLoop };
}

/**
 * One more cold pass, then a warm restart over the staples it wrote, each under `node --cpu-prof`, kept out of the
 * timed runs (profiling slows the process down).
 */
async function profilePasses(context: Context): Promise<{ cold: ProfileSummary; warm: ProfileSummary }> {
  log('profiling one more cold pass and warm restart (node --cpu-prof)');
  await resetTree(context);
  const cold = await profileOnce(context, 'cold-profiled');
  const warm = await profileOnce(context, 'warm-profiled');
  await resetTree(context);
  return { cold, warm };
}

async function profileOnce(context: Context, label: string): Promise<ProfileSummary> {
  const profileDir = join(context.workDir, label);
  await mkdir(profileDir, { recursive: true });
  await measureStaplerdOnce(context, label, ['--cpu-prof', '--cpu-prof-dir', profileDir]);
  const [file] = (await readdir(profileDir)).filter((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('node --cpu-prof wrote no profile');
  log(`  profile: ${join(profileDir, file)}`);
  return summariseCpuProfile(join(profileDir, file));
}

function describeMachine(workDir: string): MachineInfo {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    nodeVersion: process.version,
    platform: `${process.platform} ${process.arch}`,
    totalMemoryMb: Math.round(totalmem() / 2 ** 20),
    loadAverage: loadavg(),
    workDirFilesystem: tryCommand('stat', ['-f', '-c', '%T', workDir]),
    opensslVersion: tryCommand('openssl', ['version']),
    easyOcspVersion: readEasyOcspVersion(),
  };
}

function tryCommand(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function readEasyOcspVersion(): string {
  try {
    const file = fileURLToPath(new URL('../../node_modules/easy-ocsp/package.json', import.meta.url));
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Issue 13: every scenario host stayed within the per-host limit (a politeness failure exits 1, like the main runs). */
function isScenarioPolite(result: ScenarioResult): boolean {
  const limit = result.settings.perHostConcurrency;
  return [result.summary.latencyMaxInFlight, result.summary.multiHostMaxInFlight, result.summary.unevenMaxInFlight].every((seen) => (seen ?? Infinity) <= limit);
}

/** `--only-scenarios`: issue 13's scenarios alone, written to `<mode>-scenarios.{json,md}`. */
async function runScenariosOnly(settings: BenchSettings, scenarios: ScenarioSettings, outDir: string, workBase: string, keep: boolean): Promise<void> {
  await inScratchWorkDir(workBase, keep, async (workDir) => {
    const machine = describeMachine(workDir);
    const scenarioResult = await runLatencyScenarios({ staplerd: STAPLERD, easyOcsp: EASY_OCSP, floor: FLOOR, workDir }, scenarios, log);
    const polite = isScenarioPolite(scenarioResult);
    const header = `# staplerd benchmark: issue 13 scenarios (${settings.mode})\n\n${machine.cores} cores (${machine.cpuModel}), Node ${machine.nodeVersion}, ${machine.platform}, work dir on ${machine.workDirFilesystem}, load average at start ${machine.loadAverage.map((value) => value.toFixed(2)).join(' ')}, at end ${loadavg().map((value) => value.toFixed(2)).join(' ')} (other processes share the cores: every wall time is inflated by that load). Generated ${new Date().toISOString()}.\n\n`;
    const markdown = `${header}${formatScenarios(scenarioResult)}\nPoliteness: ${polite ? 'within' : '**over**'} the per-host limit.\n`;
    await writeResultFiles(join(outDir, `${settings.mode}-scenarios`), { schema: 1, generatedAt: new Date().toISOString(), machine, scenarios: scenarioResult }, markdown);
    if (!polite) process.exitCode = 1;
  });
}

/** `--only-fleet`: issue 11's fleet scenario alone, written to `<mode>-fleet.{json,md}`. */
async function runFleetOnly(settings: BenchSettings, outDir: string, workBase: string, keep: boolean): Promise<void> {
  await inScratchWorkDir(workBase, keep, async (workDir) => {
    const quick = settings.mode === 'quick';
    const fleetSettings = { hosts: 5, certs: quick ? 40 : 1000, latencyMs: quick ? 5 : 50, concurrency: settings.concurrency, perHostConcurrency: settings.perHostConcurrency };
    const result = await runFleetScenario({ staplerd: STAPLERD, workDir }, fleetSettings, log);
    const machine = describeMachine(workDir);
    const header = `# staplerd benchmark: issue 11 fleet scenario (${settings.mode})\n\n${machine.cores} cores (${machine.cpuModel}), Node ${machine.nodeVersion}, load average at start ${machine.loadAverage.map((value) => value.toFixed(2)).join(' ')}. Generated ${new Date().toISOString()}.\n\n`;
    const markdown = `${header}${formatFleetScenario(result)}`;
    await writeResultFiles(join(outDir, `${settings.mode}-fleet`), { schema: 1, generatedAt: new Date().toISOString(), machine, fleet: result }, markdown);
    if (result.targets.some((target) => !target.holds)) process.exitCode = 1;
  });
}

/** Runs `work` in a fresh work directory under `workBase`, removed afterwards unless --keep or `work` failed (its logs are the post-mortem). */
async function inScratchWorkDir(workBase: string, keep: boolean, work: (workDir: string) => Promise<void>): Promise<void> {
  const workDir = await mkdtemp(join(workBase, 'staplerd-bench-'));
  let keepWorkDir = keep;
  try {
    await work(workDir);
  } catch (error) {
    keepWorkDir = true;
    throw error;
  } finally {
    if (keepWorkDir) log(`kept ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
}

/** `<base>.json` and `<base>.md`, and the markdown on stdout. */
async function writeResultFiles(base: string, json: unknown, markdown: string): Promise<void> {
  await writeFileAtomic(`${base}.json`, Buffer.from(`${JSON.stringify(json, null, 2)}\n`));
  await writeFileAtomic(`${base}.md`, Buffer.from(markdown));
  process.stdout.write(`${markdown}\nwritten: ${base}.json, ${base}.md\n`);
}

async function main(): Promise<void> {
  const { settings, scenarios, onlyScenarios, onlyFleet, outDir, workBase, cpuProf, keep } = readSettings(process.argv.slice(2));
  if (onlyFleet) {
    await runFleetOnly(settings, outDir, workBase, keep);
    return;
  }
  if (onlyScenarios) {
    await runScenariosOnly(settings, scenarios, outDir, workBase, keep);
    return;
  }
  log(`${settings.certificates} certificates, ${settings.runs} run(s), concurrency ${settings.concurrency}/${settings.perHostConcurrency}`);
  const { context, setup } = await prepare(settings, workBase);
  log(`generated in ${(setup.generateMs / 1000).toFixed(2)} s; ${setup.answers} answers pre-signed in ${(setup.preSignMs / 1000).toFixed(2)} s; work dir ${context.workDir}`);
  const machine = describeMachine(context.workDir);
  let keepWorkDir = keep;
  try {
    const runs: RunFigures[] = [];
    for (let index = 0; index < settings.runs; index += 1) runs.push(await runOnce(context, index));
    const profile = cpuProf ? await profilePasses(context) : undefined;
    const scenarioResult = await runLatencyScenarios({ staplerd: STAPLERD, easyOcsp: EASY_OCSP, floor: FLOOR, workDir: context.workDir }, scenarios, log);
    const median = computeMedians(runs);
    const politeness = checkPoliteness(runs, settings.perHostConcurrency);
    const ratios = computeRatios(median);
    const result: BenchResult = {
      schema: 1,
      generatedAt: new Date().toISOString(),
      settings,
      machine,
      setup,
      runs,
      median,
      ratios,
      politeness,
      checks: { ...runChecks(runs, settings, politeness), scenarioPoliteness: isScenarioPolite(scenarioResult) },
      responder: describeResponder(runs, setup),
      targets: evaluateTargets(median, ratios, politeness),
      ...(profile ? { profile } : {}),
      scenarios: scenarioResult,
    };
    const markdown = `${formatMarkdown(result)}\n${formatScenarios(scenarioResult)}`;
    const base = join(outDir, `${settings.mode}-n${settings.certificates}`);
    await writeResultFiles(base, result, markdown);
    if (Object.values(result.checks).includes(false)) process.exitCode = 1;
  } catch (error) {
    // The logs named in the error live in the work directory: keep it for the post-mortem.
    keepWorkDir = true;
    throw error;
  } finally {
    await context.responder.stop();
    if (keepWorkDir) log(`kept ${context.workDir}`);
    else await rm(context.workDir, { recursive: true, force: true });
  }
}

await main();
