// Bounded, non-blocking reads of the files staplerd consumes: refuses FIFOs, devices, sockets and oversized files.
// staplerd runs as root beside root-owned servers: any name it reads may be a FIFO (an open(2) for reading blocks
// until a writer appears, freezing the event loop, /healthz and SIGTERM) or a symlink to /dev/zero (a read that never
// ends). One open with O_NONBLOCK, one fstat on that descriptor, at most cap + 1 bytes read, one close: the checks
// apply to the very file that is read (no stat-then-open race), and the cost stays that of readFileSync, which the
// 10,000-certificate sweeps rely on (docs/performance.md).
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { StaplerdError } from '../errors/index.js';

/** Certificate files and chains: a full chain is 5-10 KiB and the largest CA bundles (Mozilla's, ~150 roots) ~250 KiB. */
export const DEFAULT_MAX_CERTIFICATE_FILE_BYTES = 1024 * 1024;
/**
 * Staples, `<crt>.issuer` files and nginx snippets on disk. A staple is what staplerd accepted from a responder, so it
 * is never larger than maxResponseSize (16 MiB at most, config/option-table.ts); real ones are 1-4 KiB.
 */
export const MAX_STAPLE_FILE_BYTES = 16 * 1024 * 1024;
/** State files (history, status snapshot, owed pushes): about 500 bytes per certificate, 5 MB for 10,000. */
export const MAX_STATE_FILE_BYTES = 256 * 1024 * 1024;

export interface ReadRegularFileOptions {
  /** Largest accepted size; a file with more bytes is refused with FILE_TOO_LARGE. */
  readonly maxBytes: number;
  /** Refuse a symlink at `path` itself (O_NOFOLLOW): for names inside trees staplerd owns. */
  readonly noFollow?: boolean;
}

// O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer (fifo(7)); on regular files
// it changes nothing. O_NOCTTY: opening a terminal never makes it our controlling terminal.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * The file's bytes. Throws StaplerdError FILE_NOT_REGULAR (a FIFO, device, socket or directory: nothing is read) or
 * FILE_TOO_LARGE naming the file; other failures (ENOENT, EACCES, ELOOP for a refused symlink) are rethrown as Node
 * raised them, so callers keep deciding what a missing file means.
 */
export function readRegularFileSync(path: string | Buffer, options: ReadRegularFileOptions): Buffer {
  const fd = openSync(path, options.noFollow ? OPEN_FLAGS | constants.O_NOFOLLOW : OPEN_FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      throw new StaplerdError('FILE_NOT_REGULAR', `${String(path)} is ${describeFileType(stats)}, not a regular file; it is not read`, { file: String(path) });
    }
    return readAtMost(fd, path, stats.size, options.maxBytes);
  } finally {
    closeSync(fd);
  }
}

/** Like readRegularFileSync, but undefined when the file does not exist. */
export function readRegularFileIfExistsSync(path: string | Buffer, options: ReadRegularFileOptions): Buffer | undefined {
  try {
    return readRegularFileSync(path, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Reads until end of file or maxBytes + 1 bytes: the size fstat gave may change while reading (a growing file). */
function readAtMost(fd: number, path: string | Buffer, statSize: number, maxBytes: number): Buffer {
  if (statSize > maxBytes) throw tooLarge(path, maxBytes, statSize);
  const limit = maxBytes + 1;
  let buffer = Buffer.allocUnsafe(Math.min(statSize + 1, limit));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (buffer.length >= limit) throw tooLarge(path, maxBytes);
      const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, limit));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const read = readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) break;
    length += read;
  }
  return buffer.subarray(0, length);
}

/** `statSize` when fstat already told; a file that grew while being read is only known to pass the cap. */
function tooLarge(path: string | Buffer, maxBytes: number, statSize?: number): StaplerdError {
  const size = statSize === undefined ? 'grew past' : `has ${statSize} bytes, more than`;
  return new StaplerdError('FILE_TOO_LARGE', `${String(path)} ${size} the ${maxBytes} bytes allowed; it is not read`, { file: String(path) });
}

function describeFileType(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a directory';
  return 'not a file';
}
