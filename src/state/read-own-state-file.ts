// Reads a state file only staplerd itself can have written: a regular file of this user, writable by nobody else, capped.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { StaplerdError } from '../errors/index.js';

/** STATE_CORRUPT naming the file: `what` is ignored (and rebuilt by the next save). */
export function corruptStateFile(what: string, file: string, reason: string): StaplerdError {
  return new StaplerdError('STATE_CORRUPT', `${what} ignored: ${reason}`, { file });
}

/**
 * The file's bytes if it is a regular file of this user that nobody else can write (O_NOFOLLOW: a symlink planted in
 * the state directory is not followed); undefined when it is absent or refused (reported through onProblem).
 */
export async function readOwnStateFile(file: string, maxBytes: number, what: string, onProblem: (error: StaplerdError) => void): Promise<Buffer | undefined> {
  const problem = (reason: string, code: 'STATE_CORRUPT' | 'STATE_READ_FAILED' = 'STATE_CORRUPT'): undefined => {
    onProblem(code === 'STATE_CORRUPT' ? corruptStateFile(what, file, reason) : new StaplerdError(code, `${what} ignored: ${reason}`, { file }));
    return undefined;
  };
  let handle;
  try {
    // O_NONBLOCK: a FIFO planted here must be refused by the fstat below, not block the open waiting for a writer.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') return undefined;
    // A planted symlink (ELOOP under O_NOFOLLOW) is a file that is not ours; anything else is a read that failed.
    return problem(`cannot open it: ${(error as Error).message}`, errno === 'ELOOP' ? 'STATE_CORRUPT' : 'STATE_READ_FAILED');
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return problem('not a regular file');
    const uid = process.geteuid?.();
    if (uid !== undefined && stats.uid !== uid) return problem(`owned by uid ${stats.uid}, not ${uid}`);
    if ((stats.mode & 0o022) !== 0) return problem(`writable by group or others (mode ${(stats.mode & 0o777).toString(8)})`);
    if (stats.size > maxBytes) return problem(`${stats.size} bytes is larger than any such file staplerd writes`);
    return await handle.readFile();
  } catch (error) {
    return problem(`cannot read it: ${(error as Error).message}`, 'STATE_READ_FAILED');
  } finally {
    await handle.close();
  }
}
