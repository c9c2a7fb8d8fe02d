// The few descriptor-level node:fs calls an atomic write makes, as one replaceable object (tests record or fail them).
//
// Callback-style on purpose, the same signatures as node:fs: atomic-write.ts wraps each call in one promise itself,
// so the default costs one property lookup per call and no extra promise hop (see the note atop atomic-write.ts).
import { close, fchmod, fsync, open, rename, unlink, write } from 'node:fs';

type Callback<T> = (error: NodeJS.ErrnoException | null, result: T) => void;

export interface FileSystem {
  open(path: string, flags: string, mode: number | undefined, callback: Callback<number>): void;
  write(fd: number, data: Uint8Array, offset: number, length: number, position: null, callback: Callback<number>): void;
  fchmod(fd: number, mode: number, callback: Callback<void>): void;
  fsync(fd: number, callback: Callback<void>): void;
  close(fd: number, callback: Callback<void>): void;
  rename(from: string, to: string, callback: Callback<void>): void;
  unlink(path: string, callback: Callback<void>): void;
}

/** The real thing: node:fs's own functions, not wrapped (no extra call per write on the hot path). */
export const NODE_FILE_SYSTEM: FileSystem = { open, write, fchmod, fsync, close, rename, unlink };
