// The state directory's JSON files (history, status snapshot, owed pushes): one versioned format, one read, one write.
import { StaplerdError } from '../errors/index.js';
import { readFileIfExists, writeFileAtomic } from '../output/atomic-write.js';

/** The format version every JSON state file carries; a file with another one is rebuilt or ignored, never half used. */
export const STATE_FORMAT_VERSION = 1;

/**
 * The file's JSON object when it exists and has this format version; undefined when it does not exist. Throws
 * STATE_READ_FAILED when it cannot be read (unreadable is not corrupt: the file may be fine once readable) and
 * STATE_CORRUPT when it is refused or not a JSON object of this version, both naming the file; each caller decides whether
 * that is reported or quietly ignored.
 */
export async function readJsonStateFile(file: string): Promise<Record<string, unknown> | undefined> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readFileIfExists(file);
  } catch (error) {
    // A FIFO, device or oversized file in its place is none staplerd wrote: refused like a corrupt one
    // (docs/behaviour.md), so it is rebuilt. A read that failed (EACCES, ENOTDIR) may work next time.
    const refused = error instanceof StaplerdError && (error.code === 'FILE_NOT_REGULAR' || error.code === 'FILE_TOO_LARGE');
    if (refused) throw new StaplerdError('STATE_CORRUPT', `state file is corrupt: ${error.message}`, { file });
    throw new StaplerdError('STATE_READ_FAILED', `cannot read state file: ${(error as Error).message}`, { file }, { cause: error });
  }
  if (!bytes) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new StaplerdError('STATE_CORRUPT', `state file is corrupt: ${(error as Error).message}`, { file });
  }
  const version = typeof parsed === 'object' && parsed !== null ? (parsed as { version?: unknown }).version : undefined;
  if (version !== STATE_FORMAT_VERSION || Array.isArray(parsed)) {
    throw new StaplerdError('STATE_CORRUPT', `state file is corrupt: unsupported state format version ${String(version)}`, { file });
  }
  return parsed as Record<string, unknown>;
}

/** Writes `{ version, ...fields }` atomically (temp, fsync, rename), mode 0644: state holds no secrets. */
export async function writeJsonStateFile(file: string, fields: Readonly<Record<string, unknown>>, options: { readonly indent?: number } = {}): Promise<void> {
  const text = JSON.stringify({ version: STATE_FORMAT_VERSION, ...fields }, null, options.indent) + '\n';
  await writeFileAtomic(file, new TextEncoder().encode(text), { mode: 0o644 });
}
