// Changed paths the update hook has not yet been told about (it failed, timed out or could not start), kept in the
// state dir so the next `once` run (or a restarted daemon) hands them to its hook: otherwise the server it reloads
// would never load the new staple.
import path from 'node:path';
import type { StaplerdError } from '../errors/index.js';
import { removeFileDurable, writeFileAtomic } from '../output/atomic-write.js';
import { corruptStateFile, readOwnStateFile } from './read-own-state-file.js';
import { STATE_FORMAT_VERSION } from './json-state-file.js';

const UNDELIVERED_FILE = 'undelivered-hook-paths.json';
/** Linux's PATH_MAX: a longer name is none staplerd wrote. */
const MAX_PATH_BYTES = 4096;
/** Two files (staple and nginx snippet) for 100,000 certificates at about 100 bytes each, with room to spare. */
const MAX_FILE_BYTES = 64 * 2 ** 20;
const WHAT = 'undelivered hook paths';

export function undeliveredHookPathsFilePath(stateDir: string): string {
  return path.join(stateDir, UNDELIVERED_FILE);
}

/**
 * The paths an earlier run could not deliver; [] when there are none. A file that is not a regular file of this user
 * writable only by it, is over the cap, or holds anything but a list of absolute paths is reported through onProblem
 * (STATE_CORRUPT) and ignored whole: a hook is never handed a path staplerd did not write.
 */
export async function loadUndeliveredHookPaths(stateDir: string, onProblem: (error: StaplerdError) => void): Promise<string[]> {
  const file = undeliveredHookPathsFilePath(stateDir);
  const bytes = await readOwnStateFile(file, MAX_FILE_BYTES, WHAT, onProblem);
  if (!bytes) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    onProblem(corruptStateFile(WHAT, file, 'not JSON'));
    return [];
  }
  const { version, paths } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { version?: unknown; paths?: unknown };
  if (version !== STATE_FORMAT_VERSION || !Array.isArray(paths) || !paths.every(isPlausiblePath)) {
    onProblem(corruptStateFile(WHAT, file, 'not a list of absolute paths of this format version'));
    return [];
  }
  return [...new Set(paths)];
}

function isPlausiblePath(value: unknown): value is string {
  return typeof value === 'string' && path.isAbsolute(value) && !value.includes('\0') && Buffer.byteLength(value) <= MAX_PATH_BYTES;
}

/** Writes the list atomically (mode 0600, like the other files only staplerd may write), or removes the file when empty. */
export async function saveUndeliveredHookPaths(stateDir: string, paths: readonly string[]): Promise<void> {
  const file = undeliveredHookPathsFilePath(stateDir);
  if (paths.length === 0) {
    await removeFileDurable(file);
    return;
  }
  const text = JSON.stringify({ version: STATE_FORMAT_VERSION, paths: [...paths].sort() }) + '\n';
  await writeFileAtomic(file, new TextEncoder().encode(text), { mode: 0o600 });
}
