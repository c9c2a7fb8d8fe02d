// Watches the staple directories with node:fs.watch and asks for one debounced re-scan after any change in them.
import { watch, type FSWatcher } from 'node:fs';

/**
 * One non-recursive watcher per directory rather than `recursive: true`, which Node 20 only has natively on macOS and
 * Windows. Events are only a trigger: the re-scan compares inode, size and times, so lost, duplicated or oddly named
 * events (fs.watch reports 'rename' for a staple replaced by rename) cannot put wrong data in memory, and the
 * re-scan passes back the directory list, so watchers follow directories as they come and go.
 */
export interface DirectoryWatcher {
  /** Watches exactly these directories from now on; true when it started watching one it did not watch before. */
  track(dirs: readonly string[]): boolean;
  /** Stops every watcher and the pending debounce; idempotent. */
  close(): void;
}

export interface DirectoryWatcherOptions {
  /** Quiet time after the last event before onChange; a renewal touching several files gives one re-scan. */
  readonly debounceMs: number;
  readonly onChange: () => void;
  /** A directory that cannot be watched (e.g. the inotify watch limit, ENOSPC); the periodic re-scan still covers it. */
  readonly onError: (error: Error, dir: string) => void;
  /** Injected in tests; node:fs.watch by default. */
  readonly watchDirectory?: (dir: string, listener: () => void) => FSWatcher;
}

export function createDirectoryWatcher(options: DirectoryWatcherOptions): DirectoryWatcher {
  const watchers = new Map<string, FSWatcher>();
  /** Directories whose watch failed and was reported; each re-scan tries again without reporting again. */
  const failed = new Set<string>();
  const watchDirectory = options.watchDirectory ?? ((dir, listener) => watch(dir, { persistent: true }, listener));
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const schedule = (): void => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(options.onChange, options.debounceMs);
    // The watchers, not this timer, decide whether the process stays alive.
    timer.unref();
  };

  const start = (dir: string): boolean => {
    try {
      const watcher = watchDirectory(dir, schedule);
      // A watched directory that is removed ends its watcher (with an error on some platforms): forget it and
      // re-scan, which watches it again if it came back.
      watcher.on('error', () => {
        stop(dir);
        schedule();
      });
      watchers.set(dir, watcher);
      failed.delete(dir);
      return true;
    } catch (error) {
      if (!failed.has(dir)) options.onError(error as Error, dir);
      failed.add(dir);
      return false;
    }
  };

  const stop = (dir: string): void => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
  };

  return {
    track(dirs) {
      if (closed) return false;
      const wanted = new Set(dirs);
      for (const dir of [...watchers.keys()]) if (!wanted.has(dir)) stop(dir);
      let started = false;
      for (const dir of wanted) if (!watchers.has(dir)) started = start(dir) || started;
      return started;
    },
    close() {
      closed = true;
      clearTimeout(timer);
      for (const dir of [...watchers.keys()]) stop(dir);
    },
  };
}
