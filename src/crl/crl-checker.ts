// One state per distribution point and issuer: the last valid CRL (from the state dir, then downloads), refreshed when
// policy/crl-refresh.ts says so. Certificates naming the same point share one download: each lookup chains on the last.
import { StaplerdError, toStaplerdError } from '../errors/index.js';
import { logFailure, type EventLogger } from '../log/index.js';
import { checkCrlWindow, compareCrlNumbers, validateCrl, type ValidatedCrl } from '../pki/crl-validation.js';
import type { Certificate } from '../pki/certificate.js';
import { computeCrlWakeAt, isCrlRefreshDue, type CrlRefreshInput } from '../policy/crl-refresh.js';
import { createCrlStore, type CrlStore, type KeptCrlMeta } from './crl-store.js';
import { downloadCrl, type CrlTransport } from './download-crl.js';

/** What is known about one distribution point for one issuer. */
export interface DistributionPointState {
  /** The last CRL that validated (possibly expired since: the verdict step decides what it still proves). */
  readonly crl?: ValidatedCrl;
  readonly meta?: KeptCrlMeta;
  /** Why the last attempt failed, when it did after `crl` was accepted. */
  readonly error?: StaplerdError;
  readonly failedAt?: Date;
  /** The highest CRL number accepted for this point, even when the kept CRL itself is gone or refused. */
  readonly crlNumberFloorHex?: string;
}

export interface CrlCheckerOptions {
  readonly stateDir: string;
  readonly maxCrlBytes: number;
  readonly clockSkewMs: number;
  readonly logger: EventLogger;
  /** Tests: the state-dir store; defaults to files under stateDir. */
  readonly store?: CrlStore;
}

export interface CrlLookup {
  readonly now: Date;
  /** `status`: the kept CRL only, nothing downloaded or written. */
  readonly dryRun: boolean;
  /** `once --force`: ask the server now whatever the schedule (still conditionally: an unchanged CRL costs a 304). */
  readonly force?: boolean;
  /** The pass's transport (its limiter is per pass, the checker may outlive it). */
  readonly transport: CrlTransport;
}

export interface CrlChecker {
  lookup(url: string, issuer: Certificate, options: CrlLookup): Promise<DistributionPointState>;
  /**
   * The earliest instant a point looked up (not dry-run) since the last call should be asked again
   * (policy/crl-refresh.ts computeCrlWakeAt); undefined when none was. Forgets them: points no certificate names any
   * more do not keep waking `run`, whose timer this feeds.
   */
  takeWakeAt(): Date | undefined;
}

export function createCrlChecker(options: CrlCheckerOptions): CrlChecker {
  const store = options.store ?? createCrlStore(options.stateDir, options.maxCrlBytes);
  const states = new Map<string, Promise<DistributionPointState>>();
  // --force asks each point once per checker (`once` is one pass), not once per certificate naming it.
  const forced = new Set<string>();
  const lookedUp = new Map<string, DistributionPointState>();
  return {
    lookup(url, issuer, lookup) {
      const key = `${issuer.summary.fingerprintSha256} ${url}`;
      const current = states.get(key) ?? loadKept(url, issuer, store, options.logger);
      if (lookup.dryRun) {
        states.set(key, current);
        return current;
      }
      const force = lookup.force === true && !forced.has(key);
      if (force) forced.add(key);
      const next = current.then((state) => (force || isDue(state, lookup.now) ? refresh(url, issuer, state, lookup, store, options) : state));
      states.set(key, next);
      return next.then((state) => {
        lookedUp.set(key, state);
        return state;
      });
    },
    takeWakeAt() {
      let earliest: Date | undefined;
      for (const state of lookedUp.values()) {
        const at = computeCrlWakeAt(refreshInput(state));
        if (!earliest || at < earliest) earliest = at;
      }
      lookedUp.clear();
      return earliest;
    },
  };
}

function isDue(state: DistributionPointState, now: Date): boolean {
  return isCrlRefreshDue({ now, ...refreshInput(state) });
}

function refreshInput(state: DistributionPointState): Omit<CrlRefreshInput, 'now'> {
  const kept = state.crl && state.meta ? { thisUpdate: state.crl.thisUpdate, nextUpdate: state.crl.nextUpdate, checkedAt: state.meta.checkedAt } : undefined;
  return { kept, failedAt: state.failedAt ?? state.meta?.failedAt };
}

/**
 * The kept CRL, validated again (the state dir is only trusted for what validates); none when absent or refused. The
 * CRL number floor from its metadata survives a kept DER that is gone or refused: otherwise deleting or damaging the
 * DER would let a replayed older CRL in.
 */
async function loadKept(url: string, issuer: Certificate, store: CrlStore, logger: EventLogger): Promise<DistributionPointState> {
  const refused = (thrown: unknown, kept: DistributionPointState = {}): DistributionPointState => {
    logFailure(logger, 'crl.kept_refused', toStaplerdError(thrown, 'STATE_CORRUPT'), { url }, { message: `kept CRL not used: ${(thrown as Error).message}` });
    return kept;
  };
  let meta: KeptCrlMeta | undefined;
  try {
    meta = await store.loadMeta(url);
  } catch (thrown) {
    return refused(thrown);
  }
  if (!meta) return {};
  const floor = { crlNumberFloorHex: meta.crlNumberFloorHex };
  try {
    const der = await store.loadDer(url);
    if (!der) return floor;
    const crl = await validateCrl(der, { issuer, source: url });
    return { crl, meta, crlNumberFloorHex: higherCrlNumber(meta.crlNumberFloorHex, crl.crlNumberHex) };
  } catch (thrown) {
    return refused(thrown, floor);
  }
}

async function refresh(
  url: string, issuer: Certificate, state: DistributionPointState, lookup: CrlLookup, store: CrlStore, options: CrlCheckerOptions,
): Promise<DistributionPointState> {
  const { now, transport } = lookup;
  try {
    const download = await downloadCrl(url, state.crl ? state.meta : undefined, transport);
    if (download.kind === 'not-modified') {
      const meta = { ...state.meta!, checkedAt: now, failedAt: undefined };
      await save(() => store.saveMeta(meta), url, options.logger);
      options.logger.log('debug', 'crl.not_modified', 'CRL not modified since the kept one', { url });
      return { crl: state.crl, meta, crlNumberFloorHex: state.crlNumberFloorHex };
    }
    const crl = await validateCrl(download.der, { issuer, source: url });
    checkCrlWindow(crl, now, options.clockSkewMs, url);
    if (state.crl) refuseOlder(crl, state.crl, url);
    refuseBelowFloor(crl, state.crlNumberFloorHex, url);
    const crlNumberFloorHex = higherCrlNumber(state.crlNumberFloorHex, crl.crlNumberHex);
    const meta: KeptCrlMeta = { url, checkedAt: now, ...download.validators, crlNumberFloorHex };
    await save(() => store.saveCrl(download.der, meta), url, options.logger);
    options.logger.log('info', 'crl.updated', 'CRL downloaded and validated', {
      url, crlNumber: crl.crlNumberHex, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, entries: crl.revoked.size,
    });
    return { crl, meta, crlNumberFloorHex };
  } catch (thrown) {
    const error = toStaplerdError(thrown, 'FETCH_NETWORK', { url });
    logFailure(options.logger, 'crl.failed', error, { url, keptCrl: state.crl !== undefined });
    const meta = state.meta && { ...state.meta, failedAt: now };
    if (meta && state.crl) await save(() => store.saveMeta(meta), url, options.logger);
    return { ...state, meta, error, failedAt: now };
  }
}

/** RFC 5280 5.2.3: cRLNumber only grows. A CRL without one cannot prove it is newer than one with, and by thisUpdate otherwise. */
function refuseOlder(fresh: ValidatedCrl, kept: ValidatedCrl, url: string): void {
  const older = kept.crlNumberHex !== undefined
    ? fresh.crlNumberHex === undefined || compareCrlNumbers(fresh.crlNumberHex, kept.crlNumberHex) < 0
    : fresh.thisUpdate.getTime() < kept.thisUpdate.getTime();
  if (older) {
    throw new StaplerdError('CRL_OLDER', `${url}: CRL number ${fresh.crlNumberHex ?? '(none)'} is lower than the accepted ${kept.crlNumberHex ?? kept.thisUpdate.toISOString()}; kept the newer CRL`, { url });
  }
}

/** The floor outlives the kept CRL (loadKept): a CRL below it, or without a number once one was seen, is a replay. */
function refuseBelowFloor(fresh: ValidatedCrl, floorHex: string | undefined, url: string): void {
  if (floorHex === undefined) return;
  if (fresh.crlNumberHex === undefined || compareCrlNumbers(fresh.crlNumberHex, floorHex) < 0) {
    throw new StaplerdError('CRL_OLDER', `${url}: CRL number ${fresh.crlNumberHex ?? '(none)'} is lower than the highest accepted ${floorHex}; not used`, { url });
  }
}

function higherCrlNumber(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return compareCrlNumbers(a, b) >= 0 ? a : b;
}

/** The state dir is an optimisation: failing to save costs a download at the next start, never the verdict. */
async function save(write: () => Promise<void>, url: string, logger: EventLogger): Promise<void> {
  try {
    await write();
  } catch (thrown) {
    logFailure(logger, 'crl.save_failed', toStaplerdError(thrown, 'STATE_WRITE_FAILED'), { url });
  }
}
