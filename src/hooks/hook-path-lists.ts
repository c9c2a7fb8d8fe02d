// Hands a hook its lists of paths: a NUL-separated file holding every name exactly, and capped line-based variables.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Linux refuses to exec with any one environment string over MAX_ARG_STRLEN (32 pages, 128 KiB): `spawn E2BIG`. About
 * 2,000 changed paths under a long directory reach it, so each line-based variable stops well before, leaving room for
 * the other variables and the inherited environment in the whole-environment limit (ARG_MAX, execve(2)).
 */
export const MAX_LINE_VARIABLE_BYTES = 32 * 1024;

/**
 * A name a newline-separated list cannot hold unambiguously: a newline (or CR, or a Unicode line separator) splits it
 * into forged lines (`dir\n/etc/passwd`), other controls reach terminals, and U+FFFD stands for bytes that were not
 * UTF-8, so the name printed is not the name on disk.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_LINE_SAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffd]/;

export function isLineSafe(name: string): boolean {
  return !NOT_LINE_SAFE.test(name);
}

/**
 * `NAME` (one name per line, in order, only line-safe names, at most maxBytes), `NAME_COUNT` (every name, as in the
 * file) and `NAME_OMITTED` (how many of them `NAME` leaves out: unsafe, or past the cap).
 */
export function buildLineVariables(name: string, items: readonly string[], maxBytes = MAX_LINE_VARIABLE_BYTES): Record<string, string> {
  const kept: string[] = [];
  let bytes = 0;
  for (const item of items) {
    if (!isLineSafe(item)) continue;
    const itemBytes = Buffer.byteLength(item) + (kept.length > 0 ? 1 : 0);
    // Past the cap, later (shorter) names are not squeezed in: the variable is the line-safe names in order up to the
    // first that does not fit, and the file has the rest.
    if (bytes + itemBytes > maxBytes) break;
    kept.push(item);
    bytes += itemBytes;
  }
  return { [name]: kept.join('\n'), [`${name}_COUNT`]: String(items.length), [`${name}_OMITTED`]: String(items.length - kept.length) };
}

/** Each name followed by a NUL (like `find -print0`, read with `xargs -0` or `read -d ''`): a path cannot hold NUL. */
export function encodeNulList(items: readonly string[]): string {
  return items.map((item) => `${item}\0`).join('');
}

export interface PreparedHookLists {
  /** The line variables of every list plus `NAME_FILE` naming its NUL-separated file. */
  readonly env: Record<string, string>;
  /** Removes the private directory and its files; never throws. */
  remove(): Promise<void>;
}

/**
 * Writes each list to `<private dir>/<name>` and returns the environment naming them. The directory comes from
 * mkdtemp (mode 0700, an unpredictable name: nobody else can create or swap files in it, even in a shared /tmp), each
 * file is created exclusively with mode 0600: the paths of a root daemon's certificates are nobody else's business.
 */
export async function prepareHookLists(lists: Readonly<Record<string, readonly string[]>>): Promise<PreparedHookLists> {
  const names = Object.keys(lists);
  const env: Record<string, string> = {};
  for (const name of names) Object.assign(env, buildLineVariables(name, lists[name]!));
  if (names.length === 0) return { env, remove: async () => {} };
  const dir = await mkdtemp(path.join(tmpdir(), 'staplerd-hook-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true }).catch(() => undefined);
  try {
    for (const name of names) {
      const file = path.join(dir, name.toLowerCase());
      await writeFile(file, encodeNulList(lists[name]!), { mode: 0o600, flag: 'wx' });
      env[`${name}_FILE`] = file;
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { env, remove };
}
