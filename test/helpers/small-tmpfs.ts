// A real full disk for tests: a small tmpfs mounted inside the test's own temp dir (root only), filled on demand.
import { describeIfAvailable } from './describe-if-available.js';
import { spawnSync } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';

/** Why a tmpfs cannot be mounted here, or undefined when it can (root, or CAP_SYS_ADMIN in a user namespace). */
function missingTmpfsReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  return undefined;
}

/**
 * `describe` when a tmpfs can be mounted. Otherwise: under CI=true a failing test (CI runs as root and must exercise
 * the full disk), elsewhere a skipped block with a visible warning.
 */
export function describeWithTmpfs(name: string, body: () => void): void {
  describeIfAvailable(name, missingTmpfsReason(), { what: 'can mount a tmpfs', remedy: 'CI must run these tests as root' }, body);
}

export interface SmallTmpfs {
  readonly dir: string;
  /** Writes a filler file until the filesystem answers ENOSPC: every later write of a staple fails. */
  fill(): Promise<void>;
  /** Removes the filler: writes succeed again. */
  drain(): Promise<void>;
  /** Remounts read-only (every create, write and unlink fails with EROFS, root included) or read-write again. */
  setReadOnly(readOnly: boolean): void;
  unmount(): Promise<void>;
}

/** Mounts a tmpfs of `sizeBytes` at `<parent>/<name>` (created), which must be inside the test's own temp dir. */
export async function mountSmallTmpfs(parent: string, name = 'tmpfs', sizeBytes = 256 * 1024): Promise<SmallTmpfs> {
  const dir = path.join(parent, name);
  await mkdir(dir, { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'staplerd-test', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(`mount -t tmpfs ${dir} failed: ${mounted.stderr.trim() || mounted.error?.message}`);
  const filler = path.join(dir, '.filler');
  return {
    dir,
    async fill() {
      const handle = await open(filler, 'a');
      const chunk = Buffer.alloc(4096, 0x5a);
      try {
        for (;;) await handle.write(chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        await handle.close();
      }
    },
    async drain() {
      await rm(filler, { force: true });
    },
    setReadOnly(readOnly) {
      const result = spawnSync('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, dir], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`remount ${dir} failed: ${result.stderr.trim()}`);
    },
    async unmount() {
      const result = spawnSync('umount', [dir], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`umount ${dir} failed: ${result.stderr.trim()}`);
    },
  };
}
