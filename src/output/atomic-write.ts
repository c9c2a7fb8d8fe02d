// Atomic, durable file output: a TLS server reading a staple must see the complete old or complete new bytes, never a mix.
// The hot path (one staple per certificate, thousands per sweep) uses node:fs's callback API on plain descriptors:
// each fs/promises call costs a FileHandle object and several promise hops on the main thread, which made up most of
// the CPU a write took. Concurrent writes into one directory share its fsync (group commit). Those calls go through
// a FileSystem object (default: node:fs itself) so tests can record their order and inject faults deterministically.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { StaplerdError } from '../errors/index.js';
import { NODE_FILE_SYSTEM, type FileSystem } from './file-system.js';
import { MAX_STATE_FILE_BYTES, readRegularFileIfExistsSync } from '../fs/read-regular-file.js';

const DEFAULT_FILE_MODE = 0o644;
const DIRECTORY_MODE = 0o755;
/** Keeps `.<base>.staplerd-<pid>-<hex>.tmp` under NAME_MAX (255 bytes on Linux) for long certificate file names. */
const MAX_TEMP_BASE_LENGTH = 180;
/** fsync on a directory is refused by some filesystems (FUSE, some network mounts): durability is then best effort. */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR']);

export interface WriteOptions {
  /** File permission bits, applied with fchmod so the process umask does not narrow them. Default 0o644. */
  readonly mode?: number;
  /** The descriptor-level calls (open, write, fsync, rename, ...). Default node:fs; tests pass a recorder or a fault. */
  readonly fileSystem?: FileSystem;
}

/**
 * Atomic and durable: temp file in the same directory (rename(2) is only atomic within one filesystem), write, fsync,
 * chmod, rename over the target, fsync the directory (so the rename itself survives a power loss, as in
 * write-file-atomic and SQLite's journal handling). Missing parent directories are created with mode 0o755.
 * On failure the temp file is removed, the old target is untouched and WRITE_FAILED naming the target is thrown.
 * A symlink at the target is replaced by the file, not followed.
 */
export async function writeFileAtomic(path: string, data: Uint8Array, options: WriteOptions = {}): Promise<void> {
  const mode = options.mode ?? DEFAULT_FILE_MODE;
  const fs = options.fileSystem ?? NODE_FILE_SYSTEM;
  const directory = dirname(path);
  let tempPath: string | undefined;
  try {
    tempPath = join(directory, buildTempName(basename(path)));
    let fd: number;
    try {
      fd = await openExclusive(fs, tempPath);
    } catch (error) {
      // The directory is there for nearly every write; only a missing one costs the mkdir (and a second try).
      if (errorCode(error) !== 'ENOENT') throw error;
      await ensureDirectory(fs, directory);
      fd = await openExclusive(fs, tempPath);
    }
    await writeSyncedFile(fs, fd, data, mode);
    await call<void>(fs, 'rename', tempPath, path);
    tempPath = undefined;
  } catch (error) {
    if (tempPath !== undefined) await removeQuietly(fs, tempPath);
    throw toWriteFailed(path, `cannot write ${path}`, error);
  }
  await syncDirectoryOrThrow(fs, directory, path);
}

/** Writes only when the bytes differ from the file on disk, so identical refreshes keep inode and mtime (and do not wake file watchers). */
export async function writeFileIfChanged(path: string, data: Uint8Array, options: WriteOptions = {}): Promise<boolean> {
  let current: Uint8Array | undefined;
  try {
    // Read no more than the new content: anything longer differs anyway, and a huge file planted at `<crt>.issuer`
    // or a snippet path must not be read into memory just to be replaced.
    current = await readFileIfExists(path, data.length);
  } catch (error) {
    if (!(error instanceof StaplerdError && error.code === 'FILE_TOO_LARGE')) throw toWriteFailed(path, `cannot read ${path} before writing`, error);
  }
  if (current !== undefined && bytesEqual(current, data)) return false;
  await writeFileAtomic(path, data, options);
  return true;
}

/** Removes a file and fsyncs its directory; a missing file is not an error. Returns true if something was removed. */
export async function removeFileDurable(path: string, options: { readonly fileSystem?: FileSystem } = {}): Promise<boolean> {
  const fs = options.fileSystem ?? NODE_FILE_SYSTEM;
  try {
    await call<void>(fs, 'unlink', path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw toWriteFailed(path, `cannot remove ${path}`, error);
  }
  await syncDirectoryOrThrow(fs, dirname(path), path);
  return true;
}

/**
 * Reads a file, or undefined if it does not exist (ENOENT). A FIFO, device or socket is refused before reading
 * (FILE_NOT_REGULAR) and a file over `maxBytes` (default: the state-file cap) is FILE_TOO_LARGE; other errors are
 * rethrown as Node raised them. Staples, certificates and state files are small local files: one synchronous read
 * (a few microseconds of syscalls) costs far less main-thread time than fs.readFile's four thread-pool round trips,
 * which dominated a sweep over 10,000 files on a 2-core host. The promise keeps callers free to change that.
 */
export async function readFileIfExists(path: string, maxBytes: number = MAX_STATE_FILE_BYTES): Promise<Uint8Array | undefined> {
  return readRegularFileIfExistsSync(path, { maxBytes });
}

/** One FileSystem call (node:fs's callback API by default) as a promise (one hop, no FileHandle). */
function call<T>(fs: FileSystem, method: keyof FileSystem, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    (fs[method] as (...callArgs: unknown[]) => void)(...args, (error: NodeJS.ErrnoException | null, result: T) => (error ? reject(error) : resolvePromise(result)));
  });
}

/** Random per process, then counted: unique names without drawing random bytes for every write. */
const TEMP_PREFIX = randomBytes(4).toString('hex');
let tempCounter = 0;

function buildTempName(targetBase: string): string {
  const base = targetBase.slice(0, MAX_TEMP_BASE_LENGTH);
  tempCounter = (tempCounter + 1) % 0x1000000;
  return `.${base}.staplerd-${process.pid}-${TEMP_PREFIX}${tempCounter.toString(16).padStart(6, '0')}.tmp`;
}

/** 'wx' (O_EXCL) so a name collision fails instead of writing into someone else's file. */
function openExclusive(fs: FileSystem, path: string): Promise<number> {
  return call<number>(fs, 'open', path, 'wx', 0o600);
}

async function writeSyncedFile(fs: FileSystem, fd: number, data: Uint8Array, mode: number): Promise<void> {
  try {
    for (let offset = 0; offset < data.byteLength; ) {
      offset += await call<number>(fs, 'write', fd, data, offset, data.byteLength - offset, null);
    }
    await call<void>(fs, 'fchmod', fd, mode);
    await call<void>(fs, 'fsync', fd);
  } finally {
    await call<void>(fs, 'close', fd);
  }
}

/** mkdir -p, then chmod each created directory to 0o755 (mkdir's mode is narrowed by umask, and a daemon umask of
 *  077 would hide staples from the TLS server's user) and fsync its parent so the new entry is durable too. */
async function ensureDirectory(fs: FileSystem, directory: string): Promise<void> {
  const firstCreated = await mkdir(directory, { recursive: true, mode: DIRECTORY_MODE });
  if (firstCreated === undefined) return;
  for (const created of listCreatedDirectories(resolve(firstCreated), resolve(directory))) {
    await chmod(created, DIRECTORY_MODE);
    await syncDirectory(fs, dirname(created));
  }
}

/** The directories from firstCreated down to target, outermost first. */
function listCreatedDirectories(firstCreated: string, target: string): string[] {
  const chain: string[] = [];
  let current = target;
  while (current !== firstCreated && dirname(current) !== current) {
    chain.push(current);
    current = dirname(current);
  }
  chain.push(firstCreated);
  return chain.reverse();
}

async function syncDirectory(fs: FileSystem, directory: string): Promise<void> {
  const fd = await call<number>(fs, 'open', directory, 'r', undefined);
  try {
    await call<void>(fs, 'fsync', fd);
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has(errorCode(error) ?? '')) throw error;
  } finally {
    await call<void>(fs, 'close', fd);
  }
}

interface DirectorySyncState {
  /** A sync that has not started yet: it will cover every change made before it starts. */
  queued?: Promise<void>;
  /** The sync in progress, which may have started before a caller's change. */
  running?: Promise<void>;
}

const directorySyncs = new Map<string, DirectorySyncState>();

/**
 * fsync of `directory` covering every change the caller completed before calling (group commit): callers join the
 * queued sync, which only starts once the running one is done, so a sync that began before their rename never
 * counts for them. 32 concurrent writers into one directory then cost a few directory syncs, not 32.
 * The sync runs through the FileSystem of the caller that queued it (every caller outside tests passes node:fs).
 */
export function syncDirectoryShared(directory: string, fs: FileSystem = NODE_FILE_SYSTEM): Promise<void> {
  let state = directorySyncs.get(directory);
  if (!state) {
    state = {};
    directorySyncs.set(directory, state);
  }
  if (state.queued) return state.queued;
  const owner = state;
  const queued = (owner.running ?? Promise.resolve()).then(
    () => undefined,
    () => undefined,
  ).then(() => {
    owner.queued = undefined;
    const running = syncDirectory(fs, directory);
    owner.running = running;
    const settle = (): void => {
      if (owner.running === running) owner.running = undefined;
      if (!owner.running && !owner.queued && directorySyncs.get(directory) === owner) directorySyncs.delete(directory);
    };
    running.then(settle, settle);
    return running;
  });
  owner.queued = queued;
  return queued;
}

/** After the rename the new content is already visible; a failure here means it may not survive a power loss. */
async function syncDirectoryOrThrow(fs: FileSystem, directory: string, file: string): Promise<void> {
  try {
    await syncDirectoryShared(directory, fs);
  } catch (error) {
    throw toWriteFailed(file, `cannot sync directory ${directory} for ${file}; the change may not survive a crash`, error);
  }
}

async function removeQuietly(fs: FileSystem, path: string): Promise<void> {
  try {
    await call<void>(fs, 'unlink', path);
  } catch {
    // Best effort: the write already failed and that error is what the caller needs. A leftover is a dotfile no
    // server or scan reads (see docs/behaviour.md).
  }
}

function bytesEqual(left: Uint8Array, right: Uint8Array): boolean {
  return Buffer.from(left.buffer, left.byteOffset, left.byteLength).equals(right);
}

function toWriteFailed(file: string, message: string, cause: unknown): StaplerdError {
  if (cause instanceof StaplerdError && cause.code === 'WRITE_FAILED') return cause.withFile(file);
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StaplerdError('WRITE_FAILED', `${message}: ${reason}`, { file }, { cause });
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
