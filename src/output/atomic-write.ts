// Atomic, durable file output: a TLS server reading a staple must see the complete old or complete new bytes, never a mix.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { StaplerdError } from '../errors/index.js';

const DEFAULT_FILE_MODE = 0o644;
const DIRECTORY_MODE = 0o755;
/** A leftover temp file older than this is removed even if its pid looks alive (pids are reused after a reboot). */
const STALE_TEMP_AGE_MS = 60 * 60 * 1000;
/** Keeps `.<base>.staplerd-<pid>-<hex>.tmp` under NAME_MAX (255 bytes on Linux) for long certificate file names. */
const MAX_TEMP_BASE_LENGTH = 180;
const TEMP_NAME_PATTERN = /^\..*\.staplerd-(\d+)-[0-9a-f]+\.tmp$/s;
/** fsync on a directory is refused by some filesystems (FUSE, some network mounts): durability is then best effort. */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR']);

export interface WriteOptions {
  /** File permission bits, applied with fchmod so the process umask does not narrow them. Default 0o644. */
  readonly mode?: number;
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
  const directory = dirname(path);
  let tempPath: string | undefined;
  try {
    await ensureDirectory(directory);
    tempPath = join(directory, buildTempName(basename(path)));
    await writeSyncedFile(tempPath, data, mode);
    await rename(tempPath, path);
    tempPath = undefined;
  } catch (error) {
    if (tempPath !== undefined) await removeQuietly(tempPath);
    throw toWriteFailed(path, `cannot write ${path}`, error);
  }
  await syncDirectoryOrThrow(directory, path);
}

/** Writes only when the bytes differ from the file on disk, so identical refreshes keep inode and mtime (and do not wake file watchers). */
export async function writeFileIfChanged(path: string, data: Uint8Array, options: WriteOptions = {}): Promise<boolean> {
  let current: Uint8Array | undefined;
  try {
    current = await readFileIfExists(path);
  } catch (error) {
    throw toWriteFailed(path, `cannot read ${path} before writing`, error);
  }
  if (current !== undefined && bytesEqual(current, data)) return false;
  await writeFileAtomic(path, data, options);
  return true;
}

/** Removes a file and fsyncs its directory; a missing file is not an error. Returns true if something was removed. */
export async function removeFileDurable(path: string): Promise<boolean> {
  try {
    await unlink(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw toWriteFailed(path, `cannot remove ${path}`, error);
  }
  await syncDirectoryOrThrow(dirname(path), path);
  return true;
}

export interface CleanOptions {
  /** The current instant; only used to judge a temp file's age. */
  readonly now?: Date;
}

/**
 * Removes `.*.staplerd-<pid>-*.tmp` files left by a crash: those whose writer pid is gone, or older than 1 h.
 * Temp files of live writers (including this process) are kept, so cleaning never races an in-flight write.
 * A missing directory counts as clean. Returns the number of files removed.
 */
export async function cleanStaleTempFiles(dir: string, options: CleanOptions = {}): Promise<number> {
  const nowMs = (options.now ?? new Date()).getTime();
  let removed = 0;
  for (const name of await listDirectory(dir)) {
    const match = TEMP_NAME_PATTERN.exec(name);
    if (match === null) continue;
    if (await removeIfStale(join(dir, name), Number(match[1]), nowMs)) removed += 1;
  }
  if (removed > 0) await syncDirectoryOrThrow(dir, dir);
  return removed;
}

/** Reads a file, or undefined if it does not exist (ENOENT). Other errors are rethrown as Node raised them. */
export async function readFileIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function buildTempName(targetBase: string): string {
  const base = targetBase.slice(0, MAX_TEMP_BASE_LENGTH);
  return `.${base}.staplerd-${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
}

/** 'wx' (O_EXCL) so a name collision fails instead of writing into someone else's file. */
async function writeSyncedFile(path: string, data: Uint8Array, mode: number): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** mkdir -p, then chmod each created directory to 0o755 (mkdir's mode is narrowed by umask, and a daemon umask of
 *  077 would hide staples from the TLS server's user) and fsync its parent so the new entry is durable too. */
async function ensureDirectory(directory: string): Promise<void> {
  const firstCreated = await mkdir(directory, { recursive: true, mode: DIRECTORY_MODE });
  if (firstCreated === undefined) return;
  for (const created of listCreatedDirectories(resolve(firstCreated), resolve(directory))) {
    await chmod(created, DIRECTORY_MODE);
    await syncDirectory(dirname(created));
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

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has(errorCode(error) ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

/** After the rename the new content is already visible; a failure here means it may not survive a power loss. */
async function syncDirectoryOrThrow(directory: string, file: string): Promise<void> {
  try {
    await syncDirectory(directory);
  } catch (error) {
    throw toWriteFailed(file, `cannot sync directory ${directory} for ${file}; the change may not survive a crash`, error);
  }
}

async function removeIfStale(path: string, pid: number, nowMs: number): Promise<boolean> {
  try {
    const stats = await lstat(path);
    if (!stats.isFile()) return false;
    const isOld = nowMs - stats.mtimeMs > STALE_TEMP_AGE_MS;
    if (!isOld && isProcessAlive(pid)) return false;
    await unlink(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw toWriteFailed(path, `cannot remove stale temp file ${path}`, error);
  }
}

/** Signal 0 checks existence without delivering anything; EPERM means it exists but belongs to another user. */
function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid < 1) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

async function listDirectory(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw toWriteFailed(dir, `cannot list ${dir}`, error);
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // Best effort: the write already failed and that error is what the caller needs; cleanStaleTempFiles catches leftovers.
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
