// Decides whether `staplerd status` may show the daemon's snapshot: only when it provably comes from the daemon
// running now on this state dir and watching the certificates status was asked about; otherwise the files.
import type { DaemonAnswer } from './daemon-socket.js';

/** Which certificates a daemon covers: the part of its configuration that decides the rows `status` prints. */
export interface WatchedCertificates {
  /** Absolute certificate directories, sorted, without duplicates. */
  readonly certs: readonly string[];
  /** Output root, or null for staples beside the certificates. */
  readonly out: string | null;
  /** File name endings taken as certificates, sorted, without duplicates. */
  readonly extensions: readonly string[];
}

/** The snapshot fields that say who wrote it (see saveStatusSnapshot). */
export interface SnapshotOrigin {
  readonly pid: number;
  readonly instanceId?: string;
  readonly watched?: WatchedCertificates;
}

export type StatusSource =
  | { readonly source: 'daemon' }
  /**
   * `no-daemon`: nothing answered on the state dir's socket. `no-snapshot`: a daemon answered but the snapshot is not
   * its own (first pass still running, or written by an earlier daemon). `other-certificates`: the daemon watches
   * other certificate directories, output root or extensions than this `status` was given.
   */
  | { readonly source: 'files'; readonly reason: 'no-daemon' | 'no-snapshot' | 'other-certificates'; readonly daemonPid?: number };

/** Normalises the configuration's certificate selection, so the same set written in another order compares equal. */
export function describeWatchedCertificates(config: { readonly certs: readonly string[]; readonly out?: string; readonly extensions: readonly string[] }): WatchedCertificates {
  const sortedUnique = (values: readonly string[]): string[] => [...new Set(values)].sort();
  return { certs: sortedUnique(config.certs), out: config.out ?? null, extensions: sortedUnique(config.extensions) };
}

/**
 * Pure: the live view needs all three of a daemon answering on the socket now, a snapshot written by that same
 * instance (not merely the same pid: pids are reused), and that instance watching exactly `wanted`.
 */
export function chooseStatusSource(input: { snapshot?: SnapshotOrigin; daemon?: DaemonAnswer; wanted: WatchedCertificates }): StatusSource {
  const { snapshot, daemon, wanted } = input;
  if (!daemon) return { source: 'files', reason: 'no-daemon' };
  if (!snapshot || snapshot.instanceId !== daemon.instanceId || snapshot.pid !== daemon.pid || !snapshot.watched) {
    return { source: 'files', reason: 'no-snapshot', daemonPid: daemon.pid };
  }
  if (!isSameWatched(snapshot.watched, wanted)) return { source: 'files', reason: 'other-certificates', daemonPid: daemon.pid };
  return { source: 'daemon' };
}

function isSameWatched(a: WatchedCertificates, b: WatchedCertificates): boolean {
  const sameList = (x: readonly string[], y: readonly string[]): boolean => x.length === y.length && x.every((value, i) => value === y[i]);
  return a.out === b.out && sameList(a.certs, b.certs) && sameList(a.extensions, b.extensions);
}
