// Decides which directories a recursive walk may enter: never pseudo-filesystems, never a link back above the tree.
// A symlink to /proc inside a certificate directory made staplerd walk the whole host (1.5 GB, 110 s, 1,599 foreign
// certificates, staples written beside them); a link to / does the same through every mount.
import { statfsSync, type Dirent, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';

/**
 * statfs(2) f_type values of kernel pseudo-filesystems (linux/magic.h). Their files are the kernel's live state,
 * never certificates, and some reads block or never end.
 */
const PSEUDO_FILESYSTEM_TYPES: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x65735543, 'fusectl'],
  [0x42494e4d, 'binfmt_misc'],
  [0x19800202, 'mqueue'],
  [0x6e736673, 'nsfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0x43415d53, 'smackfs'],
]);

/**
 * devtmpfs reports tmpfs's magic (0x01021994), the same as /run or /tmp, so /dev is recognised by its path; /proc and
 * /sys are also refused by path, should they be mounted as something statfs does not name.
 */
const PSEUDO_FILESYSTEM_ROOTS = ['/proc', '/sys', '/dev'];

/** `dev:ino`: one key per real directory, however many names (symlinks, bind mounts) lead to it. */
export function readDirectoryKey(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

/**
 * Why `realPath` must not be walked, or undefined when it may be. `checkFilesystem` asks statfs(2), one syscall,
 * which callers skip while the device number stays that of the parent (no mount point crossed).
 */
export function findPseudoFilesystem(realPath: string, checkFilesystem: boolean): string | undefined {
  const root = PSEUDO_FILESYSTEM_ROOTS.find((prefix) => realPath === prefix || realPath.startsWith(prefix + sep));
  if (root !== undefined) return `${realPath} is under ${root}, a kernel pseudo-filesystem`;
  if (!checkFilesystem) return undefined;
  let type: number;
  try {
    type = statfsSync(realPath).type;
  } catch {
    return undefined; // the readdir that follows reports what is wrong with it
  }
  const name = PSEUDO_FILESYSTEM_TYPES.get(type);
  return name === undefined ? undefined : `${realPath} is on ${name}, a kernel pseudo-filesystem`;
}

/** True when `target` is `dir` itself or one of its ancestors: descending there walks everything above the tree. */
export function isAncestorOrSelf(target: string, dir: string): boolean {
  if (target === dir) return true;
  const prefix = target.endsWith(sep) ? target : target + sep;
  return dir.startsWith(prefix);
}

/** The real directory a walk is in: where it is and on which device, to notice mount points and links upwards. */
export interface WalkedDirectory {
  readonly real: string;
  readonly dev: number;
}

/** What entering one directory of a walk gave: its entries, or why there are none. */
export type EnteredDirectory =
  | { readonly kind: 'entered'; readonly here: WalkedDirectory; readonly entries: Dirent[] }
  /** Reached again through another link, or a loop: walked already. */
  | { readonly kind: 'visited' }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'failed'; readonly error: NodeJS.ErrnoException };

/**
 * The one step every recursive walk takes before listing a directory (certificate discovery, the Node TLS handler's
 * staple scan): each real directory (`dev:ino`) is entered once, so certbot's symlinked trees are walked once and a
 * loop ends; a kernel pseudo-filesystem, or a directory reached from `parent` that is an ancestor of it (a link to /
 * or ..), is refused. `visited` is the walk's own set; an entered directory is added to it.
 */
export async function enterDirectory(dir: string, parent: WalkedDirectory | undefined, visited: Set<string>): Promise<EnteredDirectory> {
  try {
    const real = await realpath(dir);
    const stats = await stat(dir);
    const key = readDirectoryKey(stats);
    if (visited.has(key)) return { kind: 'visited' };
    // statfs only when a mount point was crossed (the device changed) or at the root: one syscall per mount, not per directory.
    const reason = findWalkRefusal(dir, real, parent?.real, parent === undefined || stats.dev !== parent.dev);
    if (reason !== undefined) return { kind: 'refused', reason };
    visited.add(key);
    const entries = await readdir(dir, { withFileTypes: true });
    return { kind: 'entered', here: { real, dev: stats.dev }, entries };
  } catch (error) {
    return { kind: 'failed', error: error as NodeJS.ErrnoException };
  }
}

/**
 * Why a walk (the passes' or the daemon's watcher) must not enter `dir`, whose real path is `real`: a directory above
 * the one holding the link (`parentReal`; undefined for a configured root), or a kernel pseudo-filesystem.
 */
export function findWalkRefusal(dir: string, real: string, parentReal: string | undefined, checkFilesystem: boolean): string | undefined {
  // A directory above the one holding the link (a link to / or ..) contains the tree itself: walking it walks
  // everything around the certificates. Links back into the tree were caught as already visited.
  if (parentReal !== undefined && isAncestorOrSelf(real, parentReal)) return `${dir} leads to ${real}, above the directory holding it`;
  return findPseudoFilesystem(real, checkFilesystem);
}
