// One pass over every certificate: discover, resolve issuers, and process each distinct leaf as soon as it is known.
import { policyForCode, recodeError, StaplerdError, toStaplerdError, type ErrorCode } from '../errors/index.js';
import { logFailure } from '../log/index.js';
import { createHostLimiter, fetchOcspResponse, hostOf, type CaIssuerFetcher, type HostLimiter, type OcspAttempt } from '../ocsp/index.js';
import type { StapleServer } from '../servers/index.js';
import type { FetchObservation } from '../types/index.js';
import { USER_AGENT } from '../version.js';
import { responderUrlsOf, type StapleTarget } from './collect-targets.js';
import { createPassCaIssuerFetcher } from './create-dependencies.js';
import { discoverTargets } from './discover-targets.js';
import { HostRotationQueue } from './host-rotation-queue.js';
import { drainWithConcurrency } from './map-with-concurrency.js';
import type { PassOptions, PassReport, TargetOutcome } from './pass-types.js';
import type { TargetContext } from './target-context.js';
import { processTarget, removeStaple, type FetchValidated } from './process-target.js';
import { createPublishState, publishPassResults, type PublishState } from './publish-results.js';

export interface RunPassOptions extends PassOptions {
  /** Reused across passes in `run` so AIA downloads are cached for the process lifetime. */
  readonly caIssuers?: CaIssuerFetcher;
  /** Reused across passes in `run` (pending HAProxy pushes, hook queue); a fresh one otherwise. */
  readonly publishState?: PublishState;
}

export async function runPass(options: RunPassOptions): Promise<PassReport> {
  const { config, deps } = options;
  const startedAt = deps.clock.now();
  const publishState = options.publishState ?? createPublishState();
  // One limiter per pass: the global limit is --concurrency, the per-host limit keeps each responder safe.
  const limiter = createHostLimiter({ perHost: config.perHostConcurrency, global: config.concurrency });
  const caIssuers = options.caIssuers ?? createPassCaIssuerFetcher(config, deps, limiter);
  // CRL downloads take the same per-host limiter; the checker itself is created when a certificate first needs it.
  const crl = { slot: options.crlSlot ?? {}, limiter };
  const fetchValidated = createFetchValidated(options, limiter);

  const unreadableDirs: { path: string; message: string }[] = [];
  // Targets are fetched while discovery still parses (issue 13): workers take them round-robin over responder hosts,
  // a host with a free limiter slot first, so no host waits for another's slots; outcomes go back to discovery order.
  const queue = new HostRotationQueue<{ target: StapleTarget; order: number }>({
    slotsPerHost: config.perHostConcurrency,
    workers: config.concurrency,
  });
  // Until discovery ends the total is the plan's estimate; then inputs that failed count as done, as before.
  const progress = { done: 0, inputs: 0, total: 0 };
  const reportProgress = (): void => options.onProgress?.(progress.inputs + progress.done, Math.max(progress.total, progress.inputs + progress.done));
  const discovery = discoverTargets(config, {
    now: startedAt,
    memos: options.memos,
    fetchCaIssuer: options.dryRun ? undefined : (url) => caIssuers.fetch(url),
    onDirectoryError: (path, error) => {
      logFailure(deps.logger, 'scan.failed', new StaplerdError('DIRECTORY_UNREADABLE', `cannot read directory: ${error.message}`, { file: path }, { cause: error }));
      unreadableDirs.push({ path, message: error.message });
    },
    onExpected: (count) => {
      progress.total = count;
      reportProgress();
    },
    onFetchLikely: options.dryRun ? undefined : () => deps.http.prepare?.(),
    onTarget: (target, order) => queue.push({ target, order }, responderHostOf(target, config.responder)),
  }).finally(() => queue.close());
  // One context for every target: spreading the pass's options per target cost an object each (issue 13, session 8).
  const targetContext: TargetContext = { ...options, fetchValidated, servers: publishState.servers, crl };
  const processing = drainWithConcurrency(
    () => queue.shift() ?? queue.take(), // a queued item without take()'s promise (a warm pass queues all at once)
    config.concurrency,
    async ({ item: { target, order }, done }) => {
      try {
        return { order, outcome: await processTarget(target, targetContext) };
      } catch (thrown) {
        return { order, outcome: reportInternalError(target, thrown, deps.logger) };
      } finally {
        done();
        progress.done += 1;
        reportProgress();
      }
    },
    options.signal,
  );
  // A discovery that throws (an unusable --out) still lets the fetches already started finish before it is reported.
  const discovered = await discovery.catch(async (error: unknown) => Promise.reject(await processing.then(() => error)));

  // A mistyped or missing --certs directory must fail `once` (cron, ExecStartPre), not pass as "0 certificates".
  const outcomes: TargetOutcome[] = unreadableDirs.map(({ path, message }) => failedInput(path, 'DIRECTORY_UNREADABLE', `cannot read directory: ${message}`));
  for (const problem of discovered.problems) {
    logFailure(deps.logger, 'cert.invalid', problem.error, { file: problem.certFile });
    const staleStapleFiles = problem.staleStapleFile ? [problem.staleStapleFile] : [];
    const removed = await removeStaleStaple(problem.staleStapleFile, options, publishState.servers);
    outcomes.push(failedInput(problem.certFile, problem.error.code, problem.error.message, staleStapleFiles, removed));
  }
  // Directories the walk refused to enter (/proc, a link to /): logged at their code's level, no failed outcome.
  for (const notice of discovered.notices) {
    logFailure(deps.logger, 'scan.refused', notice.error, { file: notice.certFile });
  }
  progress.inputs = outcomes.length;
  progress.total = outcomes.length + discovered.targetCount;
  reportProgress();
  const processed = await processing;
  outcomes.push(...processed.sort((a, b) => a.order - b.order).map(({ outcome }) => outcome));
  // The daemon's timer wakes for the CRLs too (daemon/due-delay.ts), not only at the next staple or sweep.
  const crlWakeAt = crl.slot.checker ? (await crl.slot.checker).takeWakeAt() : undefined;
  const report = { startedAt, finishedAt: deps.clock.now(), outcomes, ...(crlWakeAt ? { crlWakeAt } : {}) };
  if (!options.dryRun) await publishPassResults(report, config, deps, publishState);
  return report;
}

/** The pass's OCSP fetch: each responder URL in turn through the pass's limiter, every attempt logged and observed. */
function createFetchValidated({ config, deps }: RunPassOptions, limiter: HostLimiter): FetchValidated {
  const transport = { http: deps.http, limiter, timeoutMs: config.timeoutMs, maxBodyBytes: config.maxResponseBytes, userAgent: USER_AGENT };
  const observeFetch = deps.observeFetch;
  return (urls, requestDer, accept) =>
    fetchOcspResponse(urls, requestDer, accept, {
      ...transport,
      now: () => deps.clock.now(),
      onAttemptFailed: (url, error) =>
        logFailure(deps.logger, 'fetch.attempt_failed', error, { url }, { message: `${error.message}; trying the next responder URL` }),
      onAttempt: observeFetch && ((attempt) => observeFetch(toFetchObservation(attempt))),
    });
}

/** A bug in one certificate's processing must not stop the others or the daemon: it fails that certificate alone. */
function reportInternalError(target: StapleTarget, thrown: unknown, logger: RunPassOptions['deps']['logger']): TargetOutcome {
  const error = toStaplerdError(thrown, 'INTERNAL', { file: target.files[0]?.certFile });
  logFailure(logger, 'cert.internal_error', error, { stack: (thrown as Error)?.stack });
  return {
    kind: 'failed',
    key: target.key,
    certFiles: target.files.map((f) => f.certFile),
    stapleFiles: target.files.map((f) => f.stapleFile),
    changedFiles: [],
    code: error.code,
    message: error.message,
    hasGoodStaple: false,
  };
}

/** The host whose limiter slots a target will wait for: the configured responder, else the leaf's first AIA URL. */
function responderHostOf(target: StapleTarget, responder: string | undefined): string | undefined {
  const url = responderUrlsOf(target.leaf, responder)[0];
  return url === undefined ? undefined : hostOf(url);
}

/** A staple that no certificate can own any more (OUTPUT_CONFLICT) goes, snippet first, unless this is a dry run. */
async function removeStaleStaple(stapleFile: string | undefined, options: RunPassOptions, servers: readonly StapleServer[]): Promise<string[]> {
  if (!stapleFile || options.dryRun) return [];
  try {
    if (!(await removeStaple(stapleFile, { ...options, servers }))) return [];
    options.deps.logger.log('warn', 'staple.removed', 'staple removed: two certificates map to this staple path', { staple: stapleFile, code: 'OUTPUT_CONFLICT' });
    return [stapleFile];
  } catch (thrown) {
    // Removing is not writing: it has its own code (it was WRITE_FAILED, which the table documents for writes).
    logFailure(options.deps.logger, 'staple.remove_failed', recodeError(thrown, 'REMOVE_FAILED', { file: stapleFile }), { staple: stapleFile });
    return [];
  }
}

/** The code an outcome stands for when it carries none (outcomes built by hand, older snapshots). */
const CODE_OF_KIND: Partial<Record<TargetOutcome['kind'], ErrorCode>> = {
  'not-applicable': 'NO_OCSP_URL',
  'expired-certificate': 'CERT_EXPIRED',
  revoked: 'CERT_REVOKED',
  unknown: 'CERT_STATUS_UNKNOWN',
};

/**
 * The exit status one certificate asks of `once` (docs/cli.md): 0 with a valid good staple (a failed refresh that
 * kept one included), otherwise the exit column of its code in ERROR_CODES (0 for NO_OCSP_URL and CERT_EXPIRED,
 * 2 for a configuration error). An "unknown" answer fails even while an older good staple is kept: the CA no longer
 * vouches for the certificate (RFC 6960 section 2.2), which the operator must hear about before that staple runs out.
 */
export function exitStatusOfOutcome(outcome: TargetOutcome): number {
  if (outcome.hasGoodStaple && outcome.kind !== 'unknown') return 0;
  const code = outcome.code ?? CODE_OF_KIND[outcome.kind];
  return code === undefined ? 1 : policyForCode(code).exitCode;
}

/** `once`'s exit status: the worst of its certificates' (2 before 1 before 0). */
export function exitStatusOfPass(report: PassReport): number {
  return report.outcomes.reduce((worst, outcome) => Math.max(worst, exitStatusOfOutcome(outcome)), 0);
}

/** `once` succeeds when every certificate that has an OCSP URL ends with a valid good staple (see docs/cli.md). */
export function isPassSuccessful(report: PassReport): boolean {
  return exitStatusOfPass(report) === 0;
}

/** The metrics' view of an attempt: the responder host (with its port when not the default, as URL.host spells it). */
export function toFetchObservation(attempt: OcspAttempt): FetchObservation {
  return {
    host: responderHost(attempt.url),
    result: attempt.error ? 'failure' : 'success',
    code: attempt.error?.code,
    latencyMs: attempt.latencyMs,
  };
}

function responderHost(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    // An unparsable URL fails as URL_UNSUPPORTED; it still needs some label, and the URL is what the operator wrote.
    return url;
  }
}

/** An input that could not become a target (unreadable directory or file, conflicting staple path): a failed row. */
function failedInput(certFile: string, code: ErrorCode, message: string, stapleFiles: readonly string[] = [], changedFiles: readonly string[] = []): TargetOutcome {
  return { kind: 'failed', certFiles: [certFile], stapleFiles, changedFiles, code, message, hasGoodStaple: false };
}
