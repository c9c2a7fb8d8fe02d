// Remembers staples whose HAProxy runtime push failed, so the next pass (or the next `once`) delivers them.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { readJsonStateFile, writeJsonStateFile } from '../../state/json-state-file.js';

const PENDING_FILE = 'pending-pushes.json';

export function pendingPushesFilePath(stateDir: string): string {
  return path.join(stateDir, PENDING_FILE);
}

/**
 * Staple paths whose push is still owed. A missing or unreadable file means none: losing this list costs at most a
 * push that HAProxy also gets from the file at its next start, so it is never a reason to stop.
 */
export async function loadPendingPushes(stateDir: string): Promise<Set<string>> {
  try {
    const parsed = await readJsonStateFile(pendingPushesFilePath(stateDir));
    if (!parsed || !Array.isArray(parsed.staples)) return new Set();
    return new Set(parsed.staples.filter((item): item is string => typeof item === 'string'));
  } catch {
    return new Set();
  }
}

/**
 * Applies this process's changes (pushes that failed now: owed; pushes delivered now: no longer owed) to the file as
 * it is on disk now, not to what this process loaded earlier: a daemon and a `once` (or two `once` jobs) sharing one
 * state directory keep each other's owed pushes instead of the last writer erasing the other's. Staples that no
 * longer exist are dropped (nothing left to push). Atomic. Returns the owed set as saved.
 */
export async function updatePendingPushes(stateDir: string, changes: { readonly owed: Iterable<string>; readonly delivered: Iterable<string> }): Promise<Set<string>> {
  const pending = await loadPendingPushes(stateDir);
  for (const staple of changes.delivered) pending.delete(staple);
  for (const staple of changes.owed) pending.add(staple);
  const staples: string[] = [];
  for (const staple of pending) {
    if (await access(staple).then(() => true, () => false)) staples.push(staple);
  }
  await writeJsonStateFile(pendingPushesFilePath(stateDir), { staples: staples.sort() });
  return new Set(staples);
}
