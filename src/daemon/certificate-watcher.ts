// The only module that imports chokidar: watches the certificate directories and reports settled changes.
import { realpathSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { findWalkRefusal } from '../fs/directory-guard.js';

export interface CertificateWatcher {
  /** Resolves once the initial scan is done and every directory is watched. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchOptions {
  readonly dirs: readonly string[];
  readonly extensions: readonly string[];
  /** How long a file must stay unchanged before it counts as written (certbot and editors write in several steps). */
  readonly settleMs: number;
  readonly onChange: (event: 'add' | 'change' | 'unlink', path: string) => void;
  readonly onError: (error: Error) => void;
  /**
   * A directory the watch does not enter (a kernel pseudo-filesystem, or a link to a directory above the one holding
   * it), reported once per path: the passes refuse the same directories (src/discovery/find-certificate-files.ts).
   */
  readonly onRefused?: (dir: string, reason: string) => void;
}

function isCertificateName(file: string, extensions: readonly string[]): boolean {
  const lower = file.toLowerCase();
  return extensions.some((ext) => lower.endsWith(ext.toLowerCase()));
}

/** staplerd's own files beside certificates (staples, temp files, HAProxy issuers, nginx snippets): never certificates. */
const OWN_OUTPUT = /\.(?:ocsp|tmp|issuer|stapling\.conf)$/i;

/**
 * Directories are watched, files are not. chokidar gives every file it tracks its own fs.watch, Stats and closures:
 * about 3 KB of heap and one inotify watch per certificate (31 MiB and 10,000 watches for 10,000 files, past the
 * 8,192 watches some distributions allow per user). A directory's inotify watch already reports every change to
 * its entries (inotify(7)), and chokidar passes those on as `raw` events (documented in its README as internal,
 * to be used carefully: this module is the only user and its tests pin what it relies on). Events are only a
 * trigger for a pass that re-reads everything, so a lost or merged event cannot put wrong data anywhere, and the
 * cron sweep still catches what no event reports (a symlinked certificate whose target outside the tree is
 * rewritten in place).
 *
 * Paths given directly as files (`--certs site.pem`) are still watched by chokidar itself, with awaitWriteFinish.
 */
export function watchCertificates(options: WatchOptions): CertificateWatcher {
  const explicitFiles = listExplicitFiles(options.dirs);
  const settle = createSettleTimers(options);
  const roots = options.dirs.map((dir) => path.resolve(dir));
  const isRefusedDirectory = createDirectoryGuard(roots, options.onRefused);
  const watcher: FSWatcher = watch([...options.dirs], {
    ignoreInitial: true,
    // certbot's live/ holds symlinks into archive/; a renewal re-points them.
    followSymlinks: true,
    // Staples and temp files are recognised by name, before chokidar stats them; every other file is left to the
    // directory's raw events once its stats show it is a file.
    // Directories are checked like the passes check them: a link to /proc or / inside a certificate directory made
    // chokidar (following symlinks for certbot's live/) watch the whole host, one inotify watch per directory.
    ignored: (file, stats) =>
      OWN_OUTPUT.test(file) || (stats?.isFile() === true && !explicitFiles.has(path.resolve(file))) || (stats?.isDirectory() === true && isRefusedDirectory(file)),
    awaitWriteFinish: options.settleMs > 0 ? { stabilityThreshold: options.settleMs, pollInterval: Math.min(100, options.settleMs) } : false,
  });
  watcher.on('raw', (_event: string, name: unknown, details: unknown) => {
    const watchedPath = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
    if (typeof watchedPath !== 'string' || typeof name !== 'string' || name === '') return;
    // A watched file's own fs.watch names the file itself: its changes come as chokidar's add/change/unlink below.
    if (explicitFiles.has(path.resolve(watchedPath))) return;
    // Anything written into a new directory that is still settling keeps it settling.
    settle.extend(watchedPath);
    const file = path.join(watchedPath, name);
    if (OWN_OUTPUT.test(file) || !isCertificateName(file, options.extensions)) return;
    // chokidar watches the parent of a configured path that does not exist yet: its other entries are not ours.
    if (!isUnder(path.resolve(file), roots)) return;
    settle.touch(file);
  });
  watcher.on('add', (file) => options.onChange('add', file));
  watcher.on('change', (file) => options.onChange('change', file));
  watcher.on('unlink', (file) => options.onChange('unlink', file));
  // A new directory (certbot's live/new-site, `cp -r`) may already hold certificates, still being written, that no
  // event will name (chokidar lists it before watching it): reported once it has been still for settleMs, like a
  // file. A removed one took its certificates along.
  watcher.on('addDir', (dir) => settle.touch(dir, 'add'));
  watcher.on('unlinkDir', (dir) => options.onChange('unlink', dir));
  watcher.on('error', (error) => options.onError(error as Error));
  // Closed before chokidar's first scan ended (SIGTERM during start-up): `ready` settles too, else the daemon's
  // start would wait for an event a closed watcher never emits and `run` would never exit.
  let settleReady!: () => void;
  const ready = new Promise<void>((resolve) => (settleReady = resolve));
  watcher.once('ready', () => settleReady());
  return {
    ready,
    close: async () => {
      settleReady();
      settle.close();
      await watcher.close();
    },
  };
}

/**
 * Whether chokidar must not enter `dir`: a kernel pseudo-filesystem (proc, sysfs, /dev, ...), or a directory reached
 * through a link that leads to an ancestor of the link's own directory (a link to / or ..). Decided once per path
 * (chokidar asks several times); a configured root is only checked for being a pseudo-filesystem.
 */
function createDirectoryGuard(roots: readonly string[], onRefused: WatchOptions['onRefused']): (dir: string) => boolean {
  const decided = new Map<string, boolean>();
  return (dir) => {
    const absolute = path.resolve(dir);
    const known = decided.get(absolute);
    if (known !== undefined) return known;
    const reason = findWatchRefusal(absolute, roots.includes(absolute));
    decided.set(absolute, reason !== undefined);
    if (reason !== undefined) onRefused?.(absolute, reason);
    return reason !== undefined;
  };
}

function findWatchRefusal(dir: string, isRoot: boolean): string | undefined {
  let real: string;
  let parentReal: string;
  try {
    real = realpathSync(dir);
    parentReal = realpathSync(path.dirname(dir));
  } catch {
    return undefined; // gone or unreadable: chokidar reports it, the pass names it
  }
  return findWalkRefusal(dir, real, isRoot ? undefined : parentReal, true);
}

function isUnder(file: string, roots: readonly string[]): boolean {
  return roots.some((root) => file === root || file.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
}

/** The configured paths that are files (a handful at most): only those get chokidar's own per-file watch. */
function listExplicitFiles(paths: readonly string[]): Set<string> {
  const files = new Set<string>();
  for (const entry of paths) {
    // A missing path is reported by the pass (CERT_UNREADABLE); chokidar waits for it to appear. So is one that
    // cannot be a directory or file at all (a name below a regular file: ENOTDIR), as DIRECTORY_UNREADABLE on every
    // pass: the daemon keeps running for the other paths instead of dying with an INTERNAL error at start.
    if (statQuietly(entry)?.isFile()) files.add(path.resolve(entry));
  }
  return files;
}

function statQuietly(entry: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(entry, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * One timer per file, restarted by every event for it: the file is reported once it has had no event for settleMs
 * (a certificate written in several steps is read once, complete), as 'unlink' if it is gone by then.
 */
function createSettleTimers(options: Pick<WatchOptions, 'settleMs' | 'onChange'>): {
  touch(file: string, event?: 'add'): void;
  /** Restarts the timer of `file` if one is pending. */
  extend(file: string): void;
  close(): void;
} {
  const timers = new Map<string, { timer: NodeJS.Timeout; event: 'add' | undefined }>();
  let closed = false;
  const report = async (file: string, event: 'add' | undefined): Promise<void> => {
    timers.delete(file);
    const exists = await stat(file).then(() => true, () => false);
    if (!closed) options.onChange(exists ? event ?? 'change' : 'unlink', file);
  };
  const touch = (file: string, event: 'add' | undefined): void => {
    if (closed) return;
    clearTimeout(timers.get(file)?.timer);
    timers.set(file, { timer: setTimeout(() => void report(file, event), options.settleMs), event });
  };
  return {
    touch,
    extend(file) {
      const pending = timers.get(file);
      if (pending) touch(file, pending.event);
    },
    close() {
      closed = true;
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
