// Persists per-certificate history (backoff, last error, refresh instant) and the daemon's live status snapshot.
import path from 'node:path';
import { StaplerdError } from '../errors/index.js';
import type { HistoryStore, TargetHistory } from './target-history.js';
import type { CertificateStatusRow, FleetHealthSummary } from '../types/index.js';
import { isErrorCode } from '../errors/index.js';
import { readJsonStateFile, writeJsonStateFile } from './json-state-file.js';
import { describeWatchedCertificates, type SnapshotOrigin, type WatchedCertificates } from './status-source.js';

const HISTORY_FILE = 'history.json';
const STATUS_FILE = 'status.json';

interface PersistedHistoryEntry {
  consecutiveFailures: number;
  nextAttemptAt?: string;
  staleAnswers?: number;
  lastErrorCode?: string;
  lastErrorMessage?: string;
  failedInput?: string;
  refreshAt?: string;
  refreshForThisUpdateMs?: number;
  stapleSource?: string;
  lastSeenAt?: string;
}

/**
 * How long the history of a certificate that passes no longer find is kept. Two `once` jobs with different --certs
 * share one state dir; each must not wipe the other's backoff, yet deleted certificates must not pile up forever.
 */
export const FORGET_UNSEEN_AFTER_MS = 30 * 24 * 60 * 60_000;

export interface StatusSnapshot extends SnapshotOrigin {
  readonly version: number;
  readonly updatedAt: string;
  readonly certificates: readonly CertificateStatusRow[];
  /** With --fleet: the daemon's fleet health at the end of its last pass. */
  readonly fleet?: FleetHealthSummary;
}

export function historyFilePath(stateDir: string): string {
  return path.join(stateDir, HISTORY_FILE);
}

export function statusFilePath(stateDir: string): string {
  return path.join(stateDir, STATUS_FILE);
}

/**
 * Loads the history, keyed by certificate fingerprint. A missing file is a first start; a corrupt one is reported
 * through onCorrupt (STATE_CORRUPT) and replaced by an empty history: state is an optimisation, never a reason to stop.
 */
export async function loadHistory(stateDir: string, onCorrupt: (error: StaplerdError) => void): Promise<HistoryStore> {
  const file = historyFilePath(stateDir);
  const history: HistoryStore = new Map();
  let document: Record<string, unknown> | undefined;
  try {
    document = await readJsonStateFile(file);
  } catch (error) {
    const problem = error as StaplerdError;
    onCorrupt(problem.code === 'STATE_CORRUPT' ? rebuilt(file, problem.message) : problem);
    return history;
  }
  if (!document) return history;
  const certificates = document.certificates as Record<string, PersistedHistoryEntry> | undefined;
  if (typeof certificates !== 'object' || certificates === null) {
    onCorrupt(rebuilt(file, 'state file is corrupt: no certificates'));
    return history;
  }
  for (const [key, entry] of Object.entries(certificates)) {
    const restored = restoreEntry(entry);
    if (restored) history.set(key, restored);
  }
  return history;
}

/** A corrupt history costs only backoff: it is reported and replaced by an empty one. */
function rebuilt(file: string, message: string): StaplerdError {
  return new StaplerdError('STATE_CORRUPT', `${message}; it will be rebuilt`, { file });
}

function restoreEntry(entry: PersistedHistoryEntry): TargetHistory | undefined {
  if (typeof entry !== 'object' || entry === null || !Number.isInteger(entry.consecutiveFailures) || entry.consecutiveFailures < 0) return undefined;
  const date = (text: string | undefined): Date | undefined => {
    if (text === undefined) return undefined;
    const value = new Date(text);
    return Number.isNaN(value.getTime()) ? undefined : value;
  };
  return {
    consecutiveFailures: entry.consecutiveFailures,
    nextAttemptAt: date(entry.nextAttemptAt),
    staleAnswers: Number.isInteger(entry.staleAnswers) && entry.staleAnswers! > 0 ? entry.staleAnswers : undefined,
    lastErrorCode: entry.lastErrorCode && isErrorCode(entry.lastErrorCode) ? entry.lastErrorCode : undefined,
    lastErrorMessage: typeof entry.lastErrorMessage === 'string' ? entry.lastErrorMessage : undefined,
    failedInput: typeof entry.failedInput === 'string' ? entry.failedInput : undefined,
    refreshAt: date(entry.refreshAt),
    refreshForThisUpdateMs: typeof entry.refreshForThisUpdateMs === 'number' ? entry.refreshForThisUpdateMs : undefined,
    lastSeenAt: date(entry.lastSeenAt),
    stapleSource: entry.stapleSource === 'fetched' || entry.stapleSource === 'fleet' ? entry.stapleSource : undefined,
  };
}

/**
 * Saves the history atomically (temp + fsync + rename). Certificates in `seen` (found by this pass) are stamped
 * `now`; others are kept until they have been unseen for FORGET_UNSEEN_AFTER_MS.
 */
export async function saveHistory(stateDir: string, history: HistoryStore, seen?: ReadonlySet<string>, now: Date = new Date()): Promise<void> {
  const certificates: Record<string, PersistedHistoryEntry> = {};
  for (const [key, entry] of history) {
    if (seen?.has(key)) entry.lastSeenAt = now;
    else if (seen && (!entry.lastSeenAt || now.getTime() - entry.lastSeenAt.getTime() > FORGET_UNSEEN_AFTER_MS)) continue;
    certificates[key] = {
      consecutiveFailures: entry.consecutiveFailures,
      nextAttemptAt: entry.nextAttemptAt?.toISOString(),
      staleAnswers: entry.staleAnswers,
      lastErrorCode: entry.lastErrorCode,
      lastErrorMessage: entry.lastErrorMessage,
      failedInput: entry.failedInput,
      refreshAt: entry.refreshAt?.toISOString(),
      refreshForThisUpdateMs: entry.refreshForThisUpdateMs,
      lastSeenAt: entry.lastSeenAt?.toISOString(),
      stapleSource: entry.stapleSource,
    };
  }
  await writeJsonStateFile(historyFilePath(stateDir), { savedAt: now.toISOString(), certificates }, { indent: 1 });
}

/**
 * The daemon's live view, written after every pass, read by `staplerd status`. `origin` says which daemon instance
 * wrote it and for which certificates: status shows the rows only while that instance answers on its socket.
 */
export async function saveStatusSnapshot(
  stateDir: string,
  rows: readonly CertificateStatusRow[],
  origin: Required<SnapshotOrigin>,
  now: Date,
  fleet?: FleetHealthSummary,
): Promise<void> {
  const snapshot: Omit<StatusSnapshot, 'version'> = { ...origin, updatedAt: now.toISOString(), certificates: rows, ...(fleet ? { fleet } : {}) };
  await writeJsonStateFile(statusFilePath(stateDir), snapshot);
}

/** Reads the snapshot with dates revived; undefined when absent or unreadable. */
export async function readStatusSnapshot(stateDir: string): Promise<StatusSnapshot | undefined> {
  try {
    const parsed = (await readJsonStateFile(statusFilePath(stateDir))) as StatusSnapshot | undefined;
    if (!parsed || !Array.isArray(parsed.certificates)) return undefined;
    const revive = (text: unknown): Date | undefined => (typeof text === 'string' ? new Date(text) : undefined);
    return {
      ...parsed,
      instanceId: typeof parsed.instanceId === 'string' ? parsed.instanceId : undefined,
      watched: restoreWatched(parsed.watched),
      certificates: parsed.certificates.map((row) => ({
        ...row,
        thisUpdate: revive(row.thisUpdate),
        nextUpdate: revive(row.nextUpdate),
        nextRefreshAt: revive(row.nextRefreshAt),
        ...(row.crl ? { crl: { ...row.crl, thisUpdate: revive(row.crl.thisUpdate), nextUpdate: revive(row.crl.nextUpdate), revocationTime: revive(row.crl.revocationTime) } } : {}),
      })),
    };
  } catch {
    return undefined;
  }
}

/** The snapshot's `watched`, normalised; undefined when absent or malformed (then it matches no configuration). */
function restoreWatched(value: unknown): WatchedCertificates | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { certs, out, extensions } = value as Record<string, unknown>;
  const isStringList = (list: unknown): list is string[] => Array.isArray(list) && list.every((item) => typeof item === 'string');
  if (!isStringList(certs) || !isStringList(extensions) || (out !== null && typeof out !== 'string')) return undefined;
  return describeWatchedCertificates({ certs, extensions, out: out ?? undefined });
}
