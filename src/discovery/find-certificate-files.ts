// Walks the certificate directories recursively (following symlinks, as certbot's live/ links into archive/) and lists candidate files.
import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface CandidateFile {
  /** Path as reached under the root (symlinks not resolved), so output paths mirror what the operator configured. */
  readonly file: string;
  /** The configured certs directory the file was found under. */
  readonly certsRoot: string;
}

export interface FindOptions {
  readonly extensions: readonly string[];
  /** Called for a directory that cannot be read; the walk continues. */
  readonly onError?: (path: string, error: NodeJS.ErrnoException) => void;
}

/** Our own outputs and temp files are never certificates. */
function isOwnOutput(name: string): boolean {
  return name.endsWith('.ocsp') || name.endsWith('.tmp') || name.endsWith('.issuer');
}

function hasExtension(name: string, extensions: readonly string[]): boolean {
  const lower = name.toLowerCase();
  return extensions.some((ext) => lower.endsWith(ext.toLowerCase()));
}

export async function findCertificateFiles(roots: readonly string[], options: FindOptions): Promise<CandidateFile[]> {
  const found: CandidateFile[] = [];
  const seenFiles = new Set<string>();
  for (const root of roots) {
    // A single certificate file named as a root (`--certs /etc/haproxy/site.pem`) is taken as it is, whatever its
    // extension: the operator chose it. Its staple goes beside it, or under --out by its base name.
    if (await isRegularFile(root)) {
      if (!seenFiles.has(root)) found.push({ file: root, certsRoot: dirname(root) });
      seenFiles.add(root);
      continue;
    }
    // Directories are tracked by real path per root, so a symlink loop ends the descent instead of recursing forever.
    const visitedDirs = new Set<string>();
    await walkDirectory(root, root, visitedDirs, found, seenFiles, options);
  }
  found.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return found;
}

async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false; // missing or unreadable: walkDirectory reports it
  }
}

async function walkDirectory(
  dir: string,
  root: string,
  visitedDirs: Set<string>,
  found: CandidateFile[],
  seenFiles: Set<string>,
  options: FindOptions,
): Promise<void> {
  let real: string;
  let entries;
  try {
    real = await realpath(dir);
    if (visitedDirs.has(real)) return;
    visitedDirs.add(real);
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    options.onError?.(dir, error as NodeJS.ErrnoException);
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const target = await stat(path);
        isDirectory = target.isDirectory();
        isFile = target.isFile();
      } catch {
        continue; // dangling link: nothing to read
      }
    }
    if (isDirectory) {
      await walkDirectory(path, root, visitedDirs, found, seenFiles, options);
    } else if (isFile && !isOwnOutput(entry.name) && hasExtension(entry.name, options.extensions) && !seenFiles.has(path)) {
      seenFiles.add(path);
      found.push({ file: path, certsRoot: root });
    }
  }
}
