// Walks the staple directories for `*.ocsp` files, noting each file's version and every directory it walked.
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { enterDirectory, type WalkedDirectory } from '../../fs/directory-guard.js';

/** The name staplerd writes: `<cert file>.ocsp` (src/output/staple-paths.ts). Its temp files end in `.tmp`. */
export const STAPLE_SUFFIX = '.ocsp';

export interface ScanProblem {
  readonly dir: string;
  readonly error: NodeJS.ErrnoException;
}

export interface ScanResult {
  /** Staple path -> version; a new version means the file was replaced (rename gives a new inode) or rewritten. */
  readonly files: Map<string, string>;
  /** Every directory walked, in walk order: what the watcher watches. */
  readonly dirs: string[];
  /** Directories that could not be read (a root that does not exist yet, no permission). */
  readonly problems: ScanProblem[];
}

/**
 * Walks each root (and, when recursive, its subdirectories, following symlinks once: a loop ends the descent).
 * Like certificate discovery, it never enters a kernel pseudo-filesystem (/proc, /sys, /dev, ...) nor a directory
 * above the one holding the link (a link to /): those are listed as problems with code ENOTSUP, not walked.
 */
export async function scanStapleFiles(roots: readonly string[], recursive: boolean): Promise<ScanResult> {
  const result: ScanResult = { files: new Map(), dirs: [], problems: [] };
  const visited = new Set<string>();
  for (const root of roots) await walkDirectory(path.resolve(root), recursive, visited, result, undefined);
  return result;
}

/** inode, size and both times: a rename over the file changes the inode, an in-place rewrite the times. */
export function readFileVersion(stats: Stats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

async function walkDirectory(dir: string, recursive: boolean, visited: Set<string>, result: ScanResult, parent: WalkedDirectory | undefined): Promise<void> {
  const entered = await enterDirectory(dir, parent, visited);
  if (entered.kind === 'visited') return;
  if (entered.kind === 'refused') {
    result.problems.push({ dir, error: Object.assign(new Error(`${entered.reason}; not walked`), { code: 'ENOTSUP' }) });
    return;
  }
  if (entered.kind === 'failed') {
    result.problems.push({ dir, error: entered.error });
    return;
  }
  const { here, entries } = entered;
  result.dirs.push(dir);
  for (const entry of entries) {
    const isStapleName = entry.name.endsWith(STAPLE_SUFFIX);
    // Only staples, directories and symlinks (which may point at either) are worth a stat.
    if (!isStapleName && !entry.isDirectory() && !entry.isSymbolicLink()) continue;
    const full = path.join(dir, entry.name);
    const stats = await statQuietly(full);
    if (stats?.isDirectory()) {
      if (recursive) await walkDirectory(full, recursive, visited, result, here);
    } else if (stats?.isFile() && isStapleName) {
      result.files.set(full, readFileVersion(stats));
    }
  }
}

/** A file removed between readdir and stat, or a dangling symlink, is simply not there. */
async function statQuietly(file: string): Promise<Stats | undefined> {
  try {
    return await stat(file);
  } catch {
    return undefined;
  }
}
