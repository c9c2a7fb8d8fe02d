// The order of an atomic write's system calls, recorded through an injected FileSystem: temp file in the same
// directory, fsync before rename, rename onto the target, directory fsync after it; and faults between write and
// rename that must leave the old target byte-identical and no temp file. Deterministic: no timing, no chance.
import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic, writeFileIfChanged } from '../../src/output/atomic-write.js';
import { NODE_FILE_SYSTEM, type FileSystem } from '../../src/output/file-system.js';

type Operation = keyof FileSystem;

interface RecordedCall {
  readonly op: Operation;
  /** The path the call acts on: its own path argument, or the path its descriptor was opened with. */
  readonly path: string;
  /** rename's destination. */
  readonly to?: string;
}

interface Fault {
  readonly op: Operation;
  readonly code: string;
  /** Fail the nth call of op (1-based) on the temp file; earlier ones, and calls on other paths, run normally. */
  readonly nth?: number;
}

/**
 * node:fs, with every call recorded in order (path resolved through the descriptor table) and optionally one fault:
 * the faulting call is not performed and reports an errno error, as a full disk or an I/O error would.
 */
function recordingFileSystem(fault?: Fault): { fileSystem: FileSystem; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const openPaths = new Map<number, string>();
  const counts = new Map<Operation, number>();
  const failNow = (op: Operation, path: string): NodeJS.ErrnoException | undefined => {
    if (fault?.op !== op || !path.endsWith('.tmp')) return undefined;
    const count = (counts.get(op) ?? 0) + 1;
    counts.set(op, count);
    if (count !== (fault.nth ?? 1)) return undefined;
    return Object.assign(new Error(`${fault.code}: injected fault, ${op} '${path}'`), { code: fault.code });
  };
  const pathOf = (fd: number): string => openPaths.get(fd) ?? `<fd ${fd}>`;
  const fileSystem: FileSystem = {
    open(path, flags, mode, callback) {
      calls.push({ op: 'open', path });
      const error = failNow('open', path);
      if (error) return callback(error, -1);
      NODE_FILE_SYSTEM.open(path, flags, mode, (openError, fd) => {
        if (!openError) openPaths.set(fd, path);
        callback(openError, fd);
      });
    },
    write(fd, data, offset, length, position, callback) {
      calls.push({ op: 'write', path: pathOf(fd) });
      const error = failNow('write', pathOf(fd));
      if (error) return callback(error, 0);
      NODE_FILE_SYSTEM.write(fd, data, offset, length, position, callback);
    },
    fchmod(fd, mode, callback) {
      calls.push({ op: 'fchmod', path: pathOf(fd) });
      const error = failNow('fchmod', pathOf(fd));
      if (error) return callback(error, undefined);
      NODE_FILE_SYSTEM.fchmod(fd, mode, callback);
    },
    fsync(fd, callback) {
      calls.push({ op: 'fsync', path: pathOf(fd) });
      const error = failNow('fsync', pathOf(fd));
      if (error) return callback(error, undefined);
      NODE_FILE_SYSTEM.fsync(fd, callback);
    },
    close(fd, callback) {
      calls.push({ op: 'close', path: pathOf(fd) });
      NODE_FILE_SYSTEM.close(fd, (error) => {
        openPaths.delete(fd);
        callback(error, undefined);
      });
    },
    rename(from, to, callback) {
      calls.push({ op: 'rename', path: from, to });
      const error = failNow('rename', from);
      if (error) return callback(error, undefined);
      NODE_FILE_SYSTEM.rename(from, to, callback);
    },
    unlink(path, callback) {
      calls.push({ op: 'unlink', path });
      NODE_FILE_SYSTEM.unlink(path, callback);
    },
  };
  return { fileSystem, calls };
}

/** A file system whose writes accept only half of what they are given the first time (a short write, as write(2) may). */
function shortWritingFileSystem(base: FileSystem): FileSystem {
  let first = true;
  return {
    ...base,
    write(fd, data, offset, length, position, callback) {
      const accepted = first ? Math.max(1, Math.floor(length / 2)) : length;
      first = false;
      base.write(fd, data, offset, accepted, position, callback);
    },
  };
}

/** Runs `observe` before every call, then makes the call through `base`: a reader looking at each step of a write. */
function observingFileSystem(base: FileSystem, observe: (op: Operation) => void): FileSystem {
  const observed = {} as Record<Operation, (...args: unknown[]) => void>;
  for (const op of Object.keys(base) as Operation[]) {
    observed[op] = (...args: unknown[]) => {
      observe(op);
      (base[op] as (...callArgs: unknown[]) => void)(...args);
    };
  }
  return observed as unknown as FileSystem;
}

function indexOfCall(calls: readonly RecordedCall[], predicate: (call: RecordedCall) => boolean): number {
  return calls.findIndex(predicate);
}

const OLD_STAPLE = Buffer.from('old staple: valid DER the TLS server serves now');
const NEW_STAPLE = Buffer.alloc(64 * 1024, 'N');

let dir: string;
let target: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'staplerd-atomic-sequence-'));
  target = join(dir, 'site.pem.ocsp');
  await writeFile(target, OLD_STAPLE);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic, call by call', () => {
  it('writes the data only into a new temp file in the target\'s directory, never into the target', async () => {
    const { fileSystem, calls } = recordingFileSystem();
    await writeFileAtomic(target, NEW_STAPLE, { fileSystem });

    const writes = calls.filter((call) => call.op === 'write');
    expect(writes.length).toBeGreaterThan(0);
    const tempPath = writes[0]!.path;
    expect(writes.every((call) => call.path === tempPath)).toBe(true);
    expect(dirname(tempPath)).toBe(dir);
    expect(tempPath).not.toBe(target);
    expect(basename(tempPath)).toMatch(/^\.site\.pem\.ocsp\.staplerd-\d+-[0-9a-f]+\.tmp$/);
    // The target itself is never opened: not for writing in place, not truncated.
    expect(calls.filter((call) => call.op === 'open' && call.path === target)).toEqual([]);
    expect(await readFile(target)).toEqual(NEW_STAPLE);
  });

  it('fsyncs the temp file before renaming it onto the target', async () => {
    const { fileSystem, calls } = recordingFileSystem();
    await writeFileAtomic(target, NEW_STAPLE, { fileSystem });

    const tempPath = calls.find((call) => call.op === 'write')!.path;
    const lastWrite = calls.map((call) => call.op === 'write').lastIndexOf(true);
    const fileSync = indexOfCall(calls, (call) => call.op === 'fsync' && call.path === tempPath);
    const rename = indexOfCall(calls, (call) => call.op === 'rename');
    expect(fileSync).toBeGreaterThan(lastWrite);
    expect(rename).toBeGreaterThan(fileSync);
    expect(calls[rename]).toEqual({ op: 'rename', path: tempPath, to: target });
    // Mode bits are set on the temp file too, so the target never shows the temp file's 0600.
    expect(indexOfCall(calls, (call) => call.op === 'fchmod' && call.path === tempPath)).toBeLessThan(rename);
  });

  it('fsyncs the directory after the rename, so the rename survives a power loss', async () => {
    const { fileSystem, calls } = recordingFileSystem();
    await writeFileAtomic(target, NEW_STAPLE, { fileSystem });

    const rename = indexOfCall(calls, (call) => call.op === 'rename');
    const directorySync = indexOfCall(calls, (call) => call.op === 'fsync' && call.path === dir);
    expect(rename).toBeGreaterThanOrEqual(0);
    expect(directorySync).toBeGreaterThan(rename);
  });

  it('shows a reader of the target only the complete old or the complete new staple at every step', async () => {
    const seen: Array<{ op: Operation; content: 'old' | 'new' | 'other' }> = [];
    const fileSystem = observingFileSystem(NODE_FILE_SYSTEM, (op) => {
      const content = readFileSync(target);
      seen.push({ op, content: content.equals(OLD_STAPLE) ? 'old' : content.equals(NEW_STAPLE) ? 'new' : 'other' });
    });
    await writeFileAtomic(target, NEW_STAPLE, { fileSystem: shortWritingFileSystem(fileSystem) });

    expect(seen.filter((step) => step.content === 'other')).toEqual([]);
    // Old up to and including the moment of the rename, new from then on.
    const rename = seen.findIndex((step) => step.op === 'rename');
    expect(seen.slice(0, rename + 1).every((step) => step.content === 'old')).toBe(true);
    expect(seen.slice(rename + 1).every((step) => step.content === 'new')).toBe(true);
    expect(await readFile(target)).toEqual(NEW_STAPLE);
  });

  it('writes the whole staple across short writes', async () => {
    const { fileSystem, calls } = recordingFileSystem();
    await writeFileAtomic(target, NEW_STAPLE, { fileSystem: shortWritingFileSystem(fileSystem) });

    expect(calls.filter((call) => call.op === 'write').length).toBeGreaterThanOrEqual(2);
    expect(await readFile(target)).toEqual(NEW_STAPLE);
  });

  it('goes through the injected file system from writeFileIfChanged too', async () => {
    const { fileSystem, calls } = recordingFileSystem();
    expect(await writeFileIfChanged(target, NEW_STAPLE, { fileSystem })).toBe(true);
    expect(calls.map((call) => call.op)).toContain('rename');
  });
});

describe('writeFileAtomic with a fault between write and rename', () => {
  const faults: Array<{ name: string; fault: Fault }> = [
    { name: 'the disk fills up after a partial write', fault: { op: 'write', code: 'ENOSPC', nth: 2 } },
    { name: 'setting the mode fails', fault: { op: 'fchmod', code: 'EPERM' } },
    { name: 'fsync of the temp file reports an I/O error', fault: { op: 'fsync', code: 'EIO' } },
    { name: 'the rename fails', fault: { op: 'rename', code: 'EXDEV' } },
  ];

  it.each(faults)('keeps the old target byte-identical and leaves no temp file when $name', async ({ fault }) => {
    const { fileSystem, calls } = recordingFileSystem(fault);
    const write = writeFileAtomic(target, NEW_STAPLE, { fileSystem: shortWritingFileSystem(fileSystem) });

    await expect(write).rejects.toMatchObject({ code: 'WRITE_FAILED', file: target, message: expect.stringContaining(fault.code) });
    // The fault really struck where intended (not an earlier, unrelated failure).
    expect(calls.filter((call) => call.op === fault.op).length).toBeGreaterThanOrEqual(fault.nth ?? 1);
    expect(await readFile(target)).toEqual(OLD_STAPLE);
    expect(await readdir(dir)).toEqual(['site.pem.ocsp']);
    // The temp file's descriptor was closed: no descriptor leaks per failed write in a long-running daemon.
    const opened = calls.filter((call) => call.op === 'open' && call.path !== dir).length;
    const closed = calls.filter((call) => call.op === 'close' && call.path !== dir).length;
    expect(closed).toBe(opened);
  });
});
