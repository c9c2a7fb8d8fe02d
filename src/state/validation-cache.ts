// Keeps the verified-signature memo (src/pki/verified-signatures.ts) across restarts, in the state directory, so a
// restart over thousands of fresh staples repeats no public-key operation.
//
// What is stored is only "this key verified this signature over these bytes", as SHA-256 digests of exactly those
// inputs: every staple and certificate is still read, parsed and checked (CertID, issuer, responder authorisation,
// thisUpdate/nextUpdate against the clock) on every pass, and changed bytes miss the cache and are verified for real.
// Anyone who can write this file could make staplerd accept a forged staple, like anyone who can write the staple
// files themselves: the file is created 0600 and ignored unless it belongs to this user and nobody else can write it.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { StaplerdError } from '../errors/index.js';
import { writeFileAtomic } from '../output/atomic-write.js';
import { signatureMemo, type SignatureMemo } from '../pki/verified-signatures.js';

const CACHE_FILE = 'verified-signatures.bin';
/** File format: this 16-byte header, then 32-byte SHA-256 keys. Bump the version with any format change. */
const MAGIC = Buffer.from('staplerd-vsig-1\n', 'latin1');
const KEY_BYTES = 32;
/** Twice what 100,000 certificates need; a larger file is not ours. */
const MAX_FILE_BYTES = MAGIC.length + KEY_BYTES * 400_000;

export function validationCacheFilePath(stateDir: string): string {
  return path.join(stateDir, CACHE_FILE);
}

/**
 * Restores the memo from the state directory; returns how many entries were read. A missing file is a first start;
 * a corrupt, foreign or group/world-writable one is reported through onProblem (STATE_CORRUPT) and ignored, which
 * only costs the verifications it would have saved.
 */
export async function loadValidationCache(stateDir: string, onProblem: (error: StaplerdError) => void, memo: SignatureMemo = signatureMemo): Promise<number> {
  const file = validationCacheFilePath(stateDir);
  const problem = (reason: string): number => {
    onProblem(new StaplerdError('STATE_CORRUPT', `signature cache ignored: ${reason}`, { file }));
    return 0;
  };
  let handle;
  try {
    // O_NOFOLLOW: a symlink planted in the state directory is not followed.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    return problem(`cannot open it: ${(error as Error).message}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return problem('not a regular file');
    const uid = process.geteuid?.();
    if (uid !== undefined && stats.uid !== uid) return problem(`owned by uid ${stats.uid}, not ${uid}`);
    if ((stats.mode & 0o022) !== 0) return problem(`writable by group or others (mode ${(stats.mode & 0o777).toString(8)})`);
    if (stats.size > MAX_FILE_BYTES) return problem(`${stats.size} bytes is larger than any cache staplerd writes`);
    const bytes = await handle.readFile();
    if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC) || (bytes.length - MAGIC.length) % KEY_BYTES !== 0) {
      return problem('unknown format');
    }
    const keys: string[] = [];
    for (let offset = MAGIC.length; offset < bytes.length; offset += KEY_BYTES) keys.push(bytes.toString('base64', offset, offset + KEY_BYTES));
    memo.restoreKeys(keys);
    return keys.length;
  } catch (error) {
    return problem(`cannot read it: ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
}

/**
 * Saves the entries used since the previous save (the pass that just ran), forgetting the others, so the file
 * follows the certificates and staples on disk instead of growing. Atomic, mode 0600. Returns the entry count.
 */
export async function saveValidationCache(stateDir: string, memo: SignatureMemo = signatureMemo): Promise<number> {
  const keys = memo.takeUsedKeys();
  const body = Buffer.allocUnsafe(MAGIC.length + keys.length * KEY_BYTES);
  MAGIC.copy(body, 0);
  keys.forEach((key, index) => body.write(key, MAGIC.length + index * KEY_BYTES, KEY_BYTES, 'base64'));
  await writeFileAtomic(validationCacheFilePath(stateDir), body, { mode: 0o600 });
  return keys.length;
}
