// Walks the certificate directories recursively (following symlinks, as certbot's live/ links into archive/) and lists candidate files.
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StaplerdError } from '../errors/index.js';
import { enterDirectory, type WalkedDirectory } from '../fs/directory-guard.js';

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
  /**
   * Called for what the walk refuses to enter or read, the same way on every run: a pseudo-filesystem or a link
   * above the tree (DIRECTORY_REFUSED), a certificate-named FIFO, socket or device (FILE_NOT_REGULAR), a name that
   * is not UTF-8 (FILE_NAME_UNSUPPORTED). The walk continues.
   */
  readonly onRefused?: (path: string, error: StaplerdError) => void;
}

/** Our own outputs and temp files are never certificates. */
function isOwnOutput(name: string): boolean {
  return name.endsWith('.ocsp') || name.endsWith('.tmp') || name.endsWith('.issuer');
}

function hasExtension(name: string, extensions: readonly string[]): boolean {
  const lower = name.toLowerCase();
  return extensions.some((ext) => lower.endsWith(ext.toLowerCase()));
}

interface WalkState {
  readonly root: string;
  /** `dev:ino` of every directory walked under this root: each real directory once, a symlink loop ends there. */
  readonly visitedDirs: Set<string>;
  readonly found: CandidateFile[];
  readonly seenFiles: Set<string>;
  readonly options: FindOptions;
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
    await walkDirectory(root, undefined, { root, visitedDirs: new Set(), found, seenFiles, options });
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

async function walkDirectory(dir: string, parent: WalkedDirectory | undefined, state: WalkState): Promise<void> {
  const entered = await enterDirectory(dir, parent, state.visitedDirs);
  if (entered.kind === 'visited') return;
  if (entered.kind === 'refused') {
    state.options.onRefused?.(dir, new StaplerdError('DIRECTORY_REFUSED', `${entered.reason}; not walked`, { file: dir }));
    return;
  }
  if (entered.kind === 'failed') {
    state.options.onError?.(dir, entered.error);
    return;
  }
  const { here, entries } = entered;
  let hasUndecodableName = false;
  for (const entry of entries) {
    // readdir replaces bytes that are not UTF-8 with U+FFFD, and such a name leads nowhere; a name that really
    // contains U+FFFD is still there (rare, so the extra lstat costs nothing in a normal sweep).
    if (entry.name.includes('\uFFFD') && !(await existsAsNamed(join(dir, entry.name)))) hasUndecodableName = true;
    // A regular file (nearly every entry: certificates and the staples beside them) needs no stat and no async step.
    else if (entry.isFile()) considerFile(dir, entry.name, 'file', state);
    else await visitEntry(dir, entry, here, state);
  }
  if (hasUndecodableName) await refuseNamesNotUtf8(dir, state);
}

async function visitEntry(dir: string, entry: Dirent, here: WalkedDirectory, state: WalkState): Promise<void> {
  const path = join(dir, entry.name);
  let kind: FileKind;
  try {
    kind = kindOfStats(entry.isSymbolicLink() ? await stat(path) : entry);
  } catch {
    return; // dangling link: nothing to read
  }
  if (kind === 'directory') {
    await walkDirectory(path, here, state);
    return;
  }
  considerFile(dir, entry.name, kind, state);
}

/** A file or what a link points to (not a directory): a candidate when named like a certificate, once per path. */
function considerFile(dir: string, name: string, kind: Exclude<FileKind, 'directory'>, state: WalkState): void {
  // By name first: the staple beside each certificate costs no path.
  if (isOwnOutput(name) || !hasExtension(name, state.options.extensions)) return;
  const path = join(dir, name);
  if (state.seenFiles.has(path)) return;
  state.seenFiles.add(path);
  if (kind === 'file') {
    state.found.push({ file: path, certsRoot: state.root });
  } else {
    // A FIFO, socket or device named like a certificate: reading it would block or never end, so it is named instead.
    state.options.onRefused?.(path, new StaplerdError('FILE_NOT_REGULAR', `${path} is not a regular file (${kind}); it is not read`, { file: path }));
  }
}

async function existsAsNamed(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** What an entry is, or (for a symlink) what it points to. */
type FileKind = 'file' | 'directory' | 'FIFO' | 'socket' | 'device';

function kindOfStats(stats: Stats | Dirent): FileKind {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  return 'device';
}

/**
 * Names that are not UTF-8 cannot be carried through staplerd's string paths, logs, state and staple names, so they
 * are refused visibly and the same way on every run (FILE_NAME_UNSUPPORTED), when they could be a certificate (a
 * name with a configured extension) or a directory holding some.
 */
async function refuseNamesNotUtf8(dir: string, state: WalkState): Promise<void> {
  let entries: Dirent[];
  try {
    entries = (await readdir(dir, { withFileTypes: true, encoding: 'buffer' })) as unknown as Dirent[];
  } catch (error) {
    state.options.onError?.(dir, error as NodeJS.ErrnoException);
    return;
  }
  for (const entry of entries) {
    const raw = entry.name as unknown as Buffer;
    if (Buffer.from(raw.toString('utf8'), 'utf8').equals(raw)) continue; // valid UTF-8: walked by the first pass
    const shown = join(dir, escapeNameBytes(raw));
    if (!(await isCertificateOrDirectory(Buffer.concat([Buffer.from(dir + '/'), raw]), raw, state.options.extensions))) continue;
    state.options.onRefused?.(shown, new StaplerdError('FILE_NAME_UNSUPPORTED', `${shown}: the name is not valid UTF-8 (shown with \\x escapes); rename it to be stapled`, { file: shown }));
  }
}

/** The bytes of a name with everything outside printable ASCII as \xNN, so logs show exactly what is on disk. */
export function escapeNameBytes(raw: Buffer): string {
  let shown = '';
  for (const byte of raw) shown += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return shown;
}

/** Whether a name that is not UTF-8 could matter: a configured extension (compared on its bytes), or a directory. */
async function isCertificateOrDirectory(path: Buffer, raw: Buffer, extensions: readonly string[]): Promise<boolean> {
  const name = raw.toString('latin1');
  if (!isOwnOutput(name) && hasExtension(name, extensions)) return true;
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
