// Walks the staple directories for `*.ocsp` files, noting each file's version and every directory it walked.
import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { findPseudoFilesystem, isAncestorOrSelf, readDirectoryKey } from '../../fs/directory-guard.js';

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

/** The real directory that led here, to notice mount points (device changes) and links upwards. */
interface ParentDirectory {
  readonly real: string;
  readonly dev: number;
}

/** inode, size and both times: a rename over the file changes the inode, an in-place rewrite the times. */
export function readFileVersion(stats: Stats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

async function walkDirectory(dir: string, recursive: boolean, visited: Set<string>, result: ScanResult, parent: ParentDirectory | undefined): Promise<void> {
  let entries: Dirent[];
  let here: ParentDirectory;
  try {
    // Each real directory (device and inode) is walked once: certbot-style symlinked trees once, a loop ends.
    const real = await realpath(dir);
    const dirStats = await stat(dir);
    const key = readDirectoryKey(dirStats);
    if (visited.has(key)) return;
    const refusal =
      parent !== undefined && isAncestorOrSelf(real, parent.real)
        ? `${dir} leads to ${real}, above the directory holding it`
        : findPseudoFilesystem(real, parent === undefined || dirStats.dev !== parent.dev);
    if (refusal !== undefined) {
      result.problems.push({ dir, error: Object.assign(new Error(`${refusal}; not walked`), { code: 'ENOTSUP' }) });
      return;
    }
    visited.add(key);
    here = { real, dev: dirStats.dev };
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    result.problems.push({ dir, error: error as NodeJS.ErrnoException });
    return;
  }
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
