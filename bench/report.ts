// Turns the per-run figures into the result: medians, ratios and the politeness check, as JSON and as a Markdown table.
import type { ProfileSummary } from './cpu-profile.js';
import type { ScenarioResult } from './latency-scenarios.js';

export type Figures = Record<string, number>;

/** One run's figures per contender; every value is a number so medians can be taken field by field. */
export interface RunFigures {
  readonly cold: Figures;
  readonly warm: Figures;
  readonly daemon: Figures;
  readonly floor: Figures;
  readonly easyOcsp: Figures;
  readonly shellLoop: Figures;
}

export interface BenchSettings {
  readonly mode: 'quick' | 'full';
  readonly certificates: number;
  readonly runs: number;
  readonly concurrency: number;
  readonly perHostConcurrency: number;
  readonly shellSample: number;
  /** Delay the responder adds to each answer (0 by default: the responder must not be the bottleneck). */
  readonly responderLatencyMs: number;
  /** Extra node flags for the staplerd processes (none by default: what `staplerd` runs with). */
  readonly staplerdNodeFlags?: readonly string[];
}

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly nodeVersion: string;
  readonly platform: string;
  readonly totalMemoryMb: number;
  readonly loadAverage: readonly number[];
  /** Filesystem type of the work directory: fsync is nearly free on tmpfs and dominates on a real disk. */
  readonly workDirFilesystem: string;
  readonly opensslVersion: string;
  readonly easyOcspVersion: string;
}

export interface SetupFigures {
  readonly generateMs: number;
  readonly preSignMs: number;
  readonly preSignCpuMs: number;
  readonly answers: number;
}

export interface Ratios {
  /** Cold-pass wall time over the floor's: the price of staplerd's PKI work and bookkeeping. */
  readonly staplerdOverFloorWall: number;
  readonly staplerdOverFloorCpu: number;
  /** The shell loop scaled to N, over staplerd's cold pass. */
  readonly shellLoopOverStaplerdWall: number;
  readonly shellLoopOverStaplerdCpu: number;
  readonly easyOcspOverStaplerdWall: number;
  readonly easyOcspOverStaplerdCpu: number;
}

export interface Politeness {
  readonly perHostLimit: number;
  /** Highest responder in-flight count in any phase of any run. */
  readonly maxInFlight: number;
  readonly withinLimit: boolean;
}

/** What must hold for the numbers to mean anything; any false makes `npm run bench` exit 1. */
export interface Checks {
  /** Every contender stapled every certificate it was given. */
  readonly allStapled: boolean;
  /** The warm restart sent no request at all: every staple on disk was fresh. */
  readonly warmSentNoRequests: boolean;
  /** The daemon's first pass over fresh staples sent none either. */
  readonly daemonSentNoRequests: boolean;
  readonly politeness: boolean;
  /** Issue 13's scenarios never had more than the per-host limit in flight at any of their responders. */
  readonly scenarioPoliteness?: boolean;
}

/** One goal of issue 5 ("Performance"), stated for N = 10,000, with the measured median and whether it holds. */
export interface Target {
  readonly goal: string;
  readonly measured: string;
  readonly holds: boolean;
}

export interface BenchResult {
  readonly schema: 1;
  readonly generatedAt: string;
  readonly settings: BenchSettings;
  readonly machine: MachineInfo;
  readonly setup: SetupFigures;
  readonly runs: readonly RunFigures[];
  readonly median: RunFigures;
  readonly ratios: Ratios;
  readonly politeness: Politeness;
  readonly checks: Checks;
  readonly responder: Figures;
  /** Issue 5's goals against the medians: reported, never a reason to exit 1 (the checks are). */
  readonly targets?: readonly Target[];
  /** Where the time goes in the cold pass and in the warm restart (`--cpu-prof`). */
  readonly profile?: { readonly cold: ProfileSummary; readonly warm: ProfileSummary };
  /** Issue 13: latency-bound pass, five hosts sharing a pass, small daemon's settled RSS. */
  readonly scenarios?: ScenarioResult;
}

const CONTENDERS = ['cold', 'warm', 'daemon', 'floor', 'easyOcsp', 'shellLoop'] as const;

export function median(values: readonly number[]): number {
  const sorted = [...values].filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function computeMedians(runs: readonly RunFigures[]): RunFigures {
  const medianOf = (contender: (typeof CONTENDERS)[number]): Figures => {
    const keys = Object.keys(runs[0]![contender]);
    return Object.fromEntries(keys.map((key) => [key, median(runs.map((run) => run[contender][key]!))]));
  };
  return Object.fromEntries(CONTENDERS.map((contender) => [contender, medianOf(contender)])) as unknown as RunFigures;
}

export function computeRatios(medians: RunFigures): Ratios {
  const { cold, floor, shellLoop, easyOcsp } = medians;
  return {
    staplerdOverFloorWall: cold.wallMs! / floor.wallMs!,
    staplerdOverFloorCpu: cold.cpuMsPerCert! / floor.cpuMsPerCert!,
    shellLoopOverStaplerdWall: shellLoop.projectedWallMs! / cold.wallMs!,
    shellLoopOverStaplerdCpu: shellLoop.cpuMsPerCert! / cold.cpuMsPerCert!,
    easyOcspOverStaplerdWall: easyOcsp.wallMs! / cold.wallMs!,
    easyOcspOverStaplerdCpu: easyOcsp.cpuMsPerCert! / cold.cpuMsPerCert!,
  };
}

export function checkPoliteness(runs: readonly RunFigures[], perHostLimit: number): Politeness {
  const maxInFlight = Math.max(...runs.flatMap((run) => CONTENDERS.map((contender) => run[contender].maxInFlight ?? 0)));
  return { perHostLimit, maxInFlight, withinLimit: maxInFlight <= perHostLimit };
}

export function runChecks(runs: readonly RunFigures[], settings: BenchSettings, politeness: Politeness): Checks {
  const n = settings.certificates;
  return {
    allStapled: runs.every(
      (run) =>
        run.cold.stapled === n && run.warm.stapled === n && run.floor.ok === n && run.easyOcsp.ok === n && run.shellLoop.ok === run.shellLoop.sample,
    ),
    warmSentNoRequests: runs.every((run) => run.warm.requests === 0),
    daemonSentNoRequests: runs.every((run) => run.daemon.requests === 0),
    politeness: politeness.withinLimit,
  };
}

/** "200 MB" read as 200 * 10^6 bytes, in the KiB /proc and getrusage report. */
const RSS_TARGET_KB = 200e6 / 1024;

/** Issue 5's goals (for 10,000 certificates) against the medians. */
export function evaluateTargets(medians: RunFigures, ratios: Ratios, politeness: Politeness): Target[] {
  const { cold, warm, daemon } = medians;
  return [
    { goal: 'cold pass within 1.5× of the floor (wall)', measured: x(ratios.staplerdOverFloorWall), holds: ratios.staplerdOverFloorWall <= 1.5 },
    { goal: '≥ 20× faster per certificate than the shell loop (wall)', measured: x(ratios.shellLoopOverStaplerdWall), holds: ratios.shellLoopOverStaplerdWall >= 20 },
    { goal: '≥ 4× faster than easy-ocsp (wall)', measured: x(ratios.easyOcspOverStaplerdWall), holds: ratios.easyOcspOverStaplerdWall >= 4 },
    { goal: 'warm restart: zero requests', measured: int(warm.requests), holds: warm.requests === 0 },
    { goal: 'warm restart under 3 s', measured: `${sec(warm.wallMs)} s`, holds: warm.wallMs! < 3000 },
    {
      goal: 'daemon with watches in place: peak RSS under 200 MB',
      measured: `${mib(daemon.peakRssKbAtReady)} MiB (${((daemon.peakRssKbAtReady! * 1024) / 1e6).toFixed(0)} MB)`,
      holds: daemon.peakRssKbAtReady! < RSS_TARGET_KB,
    },
    { goal: 'never more than the per-host limit in flight', measured: `${politeness.maxInFlight} (limit ${politeness.perHostLimit})`, holds: politeness.withinLimit },
    { goal: 'cold pass peak RSS under 200 MB (for reference)', measured: `${mib(cold.peakRssKb)} MiB`, holds: cold.peakRssKb! < RSS_TARGET_KB },
  ];
}

/** Responder throughput from the cold pass: its CPU per answered request, and what one core could serve at that cost. */
export function describeResponder(runs: readonly RunFigures[], setup: SetupFigures): Figures {
  const cpuUsPerRequest = median(runs.map((run) => run.cold.responderCpuUsPerRequest!));
  return {
    preSignMs: setup.preSignMs,
    preSignedPerSecond: (setup.answers * 1000) / setup.preSignMs,
    cpuUsPerRequest,
    capacityRequestsPerCoreSecond: 1e6 / cpuUsPerRequest,
  };
}

export function formatMarkdown(result: BenchResult): string {
  const { settings, machine, median: m, ratios, politeness, responder, setup } = result;
  const n = settings.certificates;
  const rows: string[][] = [
    ['staplerd `once`, cold (no staples)', sec(m.cold.wallMs), rate(m.cold.certsPerSecond), ms(m.cold.cpuMsPerCert), mib(m.cold.peakRssKb), int(m.cold.requests), int(m.cold.maxInFlight)],
    ['staplerd `once`, warm restart (all fresh)', sec(m.warm.wallMs), '–', ms(m.warm.cpuMsPerCert), mib(m.warm.peakRssKb), int(m.warm.requests), int(m.warm.maxInFlight)],
    ['staplerd `run`, start until `daemon.ready`', sec(m.daemon.readyMs), '–', ms(m.daemon.cpuMsPerCert), `${mib(m.daemon.rssKbAtReady)} (peak ${mib(m.daemon.peakRssKbAtReady)})`, int(m.daemon.requests), int(m.daemon.maxInFlight)],
    ['floor: node:http GET + atomic write, no PKI', sec(m.floor.wallMs), rate(m.floor.certsPerSecond), ms(m.floor.cpuMsPerCert), mib(m.floor.peakRssKb), int(m.floor.requests), int(m.floor.maxInFlight)],
    [`shell loop: \`openssl ocsp\` × ${int(m.shellLoop.sample)}, scaled to ${n}`, sec(m.shellLoop.projectedWallMs), rate(m.shellLoop.certsPerSecond), ms(m.shellLoop.cpuMsPerCert), '–', int(m.shellLoop.requests), int(m.shellLoop.maxInFlight)],
    [`easy-ocsp ${machine.easyOcspVersion} \`getCertStatus\`, signature check on`, sec(m.easyOcsp.wallMs), rate(m.easyOcsp.certsPerSecond), ms(m.easyOcsp.cpuMsPerCert), mib(m.easyOcsp.peakRssKb), int(m.easyOcsp.requests), int(m.easyOcsp.maxInFlight)],
  ];
  const header = ['contender', 'wall s', 'certs/s', 'CPU ms/cert', 'peak RSS MiB', 'responder requests', 'max in-flight'];
  const lines = [
    `# staplerd benchmark (${settings.mode}, N = ${n})`,
    '',
    `Median of ${settings.runs} run(s); concurrency ${settings.concurrency}, per-host concurrency ${settings.perHostConcurrency}` +
      `${settings.responderLatencyMs > 0 ? `, responder latency ${settings.responderLatencyMs} ms` : ''}` +
      `${settings.staplerdNodeFlags?.length ? `, staplerd run as \`node ${settings.staplerdNodeFlags.join(' ')}\`` : ''}. ` +
      `${machine.cores} cores (${machine.cpuModel}), Node ${machine.nodeVersion}, ${machine.platform}, work dir on ${machine.workDirFilesystem}, ` +
      `load average at start ${machine.loadAverage.map((value) => value.toFixed(2)).join(' ')}. Generated ${result.generatedAt}.`,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    '| ratio | wall | CPU |',
    '| --- | ---: | ---: |',
    `| staplerd / floor | ${x(ratios.staplerdOverFloorWall)} | ${x(ratios.staplerdOverFloorCpu)} |`,
    `| shell loop / staplerd | ${x(ratios.shellLoopOverStaplerdWall)} | ${x(ratios.shellLoopOverStaplerdCpu)} |`,
    `| easy-ocsp / staplerd | ${x(ratios.easyOcspOverStaplerdWall)} | ${x(ratios.easyOcspOverStaplerdCpu)} |`,
    '',
    `Responder (separate process): ${int(setup.answers)} answers pre-signed in ${sec(responder.preSignMs)} s ` +
      `(${rate(responder.preSignedPerSecond)}/s); ${responder.cpuUsPerRequest!.toFixed(0)} µs CPU per request during the cold pass, ` +
      `so one core serves about ${rate(responder.capacityRequestsPerCoreSecond)} requests/s. Certificates generated in ${sec(setup.generateMs)} s.`,
    '',
    `Politeness: at most ${politeness.maxInFlight} request(s) in flight at the responder in any phase ` +
      `(limit ${politeness.perHostLimit}): ${politeness.withinLimit ? 'within the limit' : '**LIMIT EXCEEDED**'}.`,
    '',
    `Checks: ${Object.entries(result.checks).map(([name, ok]) => `${name} ${ok ? 'ok' : '**FAILED**'}`).join(', ')}.`,
    '',
    ...(result.targets
      ? [
          `Issue 5 targets (stated for N = 10,000${n === 10_000 ? '' : `; this run has N = ${n}, so they are for information only`}):`,
          '',
          '| target | measured | holds |',
          '| --- | ---: | :---: |',
          ...result.targets.map((target) => `| ${target.goal} | ${target.measured} | ${target.holds ? 'yes' : '**no**'} |`),
          '',
        ]
      : []),
    'Notes: wall time is spawn to exit as seen by the bench (Node start-up included). CPU is user + system of the measured ' +
      'process (getrusage at exit; for the daemon, /proc at `daemon.ready`; for the shell loop, bash `times` of its children). ' +
      'The shell loop runs one certificate at a time, as a script would. See bench/README.md for method and deviations.',
  ];
  if (result.profile) {
    lines.push('', ...formatProfileMarkdown('the cold pass', result.profile.cold), '', ...formatProfileMarkdown('the warm restart', result.profile.warm));
  }
  return `${lines.join('\n')}\n`;
}

function formatProfileMarkdown(pass: string, profile: ProfileSummary): string[] {
  const pct = (valueMs: number): string => `${((100 * valueMs) / profile.totalMs).toFixed(1)}%`;
  return [
    `## Where ${pass} spends its time (\`node --cpu-prof\`, ${sec(profile.totalMs)} s sampled)`,
    '',
    '| area | self ms | share |',
    '| --- | ---: | ---: |',
    ...profile.byArea.map((area) => `| ${area.name} | ${area.selfMs.toFixed(0)} | ${pct(area.selfMs)} |`),
    '',
    '| function (self time) | where | self ms | share |',
    '| --- | --- | ---: | ---: |',
    ...profile.topSelf.map((entry) => `| \`${entry.name}\` | ${entry.where} | ${entry.selfMs.toFixed(0)} | ${pct(entry.selfMs)} |`),
    '',
    '| staplerd function (inclusive time) | where | total ms | share |',
    '| --- | --- | ---: | ---: |',
    ...profile.topStaplerdInclusive.map((entry) => `| \`${entry.name}\` | ${entry.where} | ${entry.totalMs.toFixed(0)} | ${pct(entry.totalMs)} |`),
  ];
}

function sec(valueMs: number | undefined): string {
  return valueMs === undefined || !Number.isFinite(valueMs) ? '–' : (valueMs / 1000).toFixed(valueMs < 10_000 ? 2 : 1);
}

function ms(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(value < 1 ? 3 : 2);
}

function mib(valueKb: number | undefined): string {
  return valueKb === undefined || !Number.isFinite(valueKb) ? '–' : (valueKb / 1024).toFixed(0);
}

function rate(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function int(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : String(Math.round(value));
}

function x(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '–';
}
