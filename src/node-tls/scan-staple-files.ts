// Walks the staple directories for `*.ocsp` files, noting each file's version and every directory it walked.
import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

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

/** Walks each root (and, when recursive, its subdirectories, following symlinks once: a loop ends the descent). */
export async function scanStapleFiles(roots: readonly string[], recursive: boolean): Promise<ScanResult> {
  const result: ScanResult = { files: new Map(), dirs: [], problems: [] };
  const visited = new Set<string>();
  for (const root of roots) await walkDirectory(path.resolve(root), recursive, visited, result);
  return result;
}

/** inode, size and both times: a rename over the file changes the inode, an in-place rewrite the times. */
export function readFileVersion(stats: Stats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

async function walkDirectory(dir: string, recursive: boolean, visited: Set<string>, result: ScanResult): Promise<void> {
  let entries: Dirent[];
  try {
    // Real paths are compared so certbot-style symlinked trees are walked once and a symlink loop ends.
    const real = await realpath(dir);
    if (visited.has(real)) return;
    visited.add(real);
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
      if (recursive) await walkDirectory(full, recursive, visited, result);
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
