// Atomic durable writes: content, mode, directories, no leftovers, change detection, failures, concurrent readers.
import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readFileIfExists,
  removeFileDurable,
  writeFileAtomic,
  writeFileIfChanged,
} from '../../src/output/index.js';
import { StaplerdError } from '../../src/errors/index.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'staplerd-atomic-'));
});

afterEach(async () => {
  await chmod(dir, 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function listTempFiles(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith('.tmp'));
}

async function captureError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('writeFileAtomic', () => {
  it('writes the exact bytes and leaves no temp file behind', async () => {
    const target = join(dir, 'site.pem.ocsp');
    const data = new Uint8Array([0x30, 0x82, 0x00, 0xff, 0x00, 0x01]);
    await writeFileAtomic(target, data);
    expect(new Uint8Array(await readFile(target))).toEqual(data);
    expect(await readdir(dir)).toEqual(['site.pem.ocsp']);
  });

  it('replaces an existing file', async () => {
    const target = join(dir, 'site.pem.ocsp');
    await writeFile(target, 'old');
    await writeFileAtomic(target, bytes('new'));
    expect(await readFile(target, 'utf8')).toBe('new');
  });

  it('writes from a view into a larger buffer without leaking the surrounding bytes', async () => {
    const target = join(dir, 'view.ocsp');
    const backing = bytes('xxxPAYLOADyyy');
    await writeFileAtomic(target, backing.subarray(3, 10));
    expect(await readFile(target, 'utf8')).toBe('PAYLOAD');
  });

  describe('with a restrictive umask', () => {
    let previousUmask: number;
    beforeEach(() => {
      previousUmask = process.umask(0o077);
    });
    afterEach(() => {
      process.umask(previousUmask);
    });

    it('gives the file mode 0644 by default', async () => {
      const target = join(dir, 'site.pem.ocsp');
      await writeFileAtomic(target, bytes('staple'));
      expect((await stat(target)).mode & 0o777).toBe(0o644);
    });

    it('applies an explicit mode exactly', async () => {
      const target = join(dir, 'site.pem.ocsp');
      await writeFileAtomic(target, bytes('staple'), { mode: 0o640 });
      expect((await stat(target)).mode & 0o777).toBe(0o640);
    });

    it('creates missing parent directories with mode 0755', async () => {
      const target = join(dir, 'out/live/example.com/fullchain.pem.ocsp');
      await writeFileAtomic(target, bytes('staple'));
      expect(await readFile(target, 'utf8')).toBe('staple');
      for (const created of ['out', 'out/live', 'out/live/example.com']) {
        expect((await stat(join(dir, created))).mode & 0o777).toBe(0o755);
      }
    });
  });

  it('leaves the mode of an existing parent directory alone', async () => {
    await mkdir(join(dir, 'private'), { mode: 0o700 });
    await chmod(join(dir, 'private'), 0o700);
    await writeFileAtomic(join(dir, 'private/a.ocsp'), bytes('x'));
    expect((await stat(join(dir, 'private'))).mode & 0o777).toBe(0o700);
  });

  it('throws WRITE_FAILED naming the file when the target is a directory, and removes its temp file', async () => {
    const target = join(dir, 'taken.ocsp');
    await mkdir(target);
    await writeFile(join(target, 'inside'), 'keep');
    const error = await captureError(writeFileAtomic(target, bytes('staple')));
    expect(error).toBeInstanceOf(StaplerdError);
    expect(error).toMatchObject({ code: 'WRITE_FAILED', file: target });
    expect((error as Error).message).toContain(target);
    expect(await listTempFiles(dir)).toEqual([]);
    expect(await readFile(join(target, 'inside'), 'utf8')).toBe('keep');
  });

  it('throws WRITE_FAILED when a parent path is a regular file', async () => {
    await writeFile(join(dir, 'blocker'), 'file');
    const target = join(dir, 'blocker/site.ocsp');
    await expect(writeFileAtomic(target, bytes('staple'))).rejects.toMatchObject({ code: 'WRITE_FAILED', file: target });
  });

  it('ends 24 concurrent writes of one target with one complete version and no temp file', async () => {
    // What a reader sees at each step of a write is checked deterministically in atomic-write-sequence.test.ts.
    const target = join(dir, 'race.ocsp');
    const versions = ['A', 'B', 'C', 'D'].map((letter) => Buffer.alloc(256 * 1024, letter));
    await writeFileAtomic(target, versions[0]!);
    await Promise.all(Array.from({ length: 24 }, (_, index) => writeFileAtomic(target, versions[index % versions.length]!)));
    const final = await readFile(target);
    expect(versions.some((version) => version.equals(final))).toBe(true);
    expect(await listTempFiles(dir)).toEqual([]);
  });
});

describe('writeFileIfChanged', () => {
  it('leaves inode and mtime untouched when the bytes are identical', async () => {
    const target = join(dir, 'same.ocsp');
    await writeFileAtomic(target, bytes('staple v1'));
    // An old mtime makes any rewrite visible regardless of timestamp granularity.
    const past = new Date('2020-01-01T00:00:00Z');
    await utimes(target, past, past);
    const before = await stat(target);
    expect(await writeFileIfChanged(target, bytes('staple v1'))).toBe(false);
    const after = await stat(target);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it('writes and reports true when the bytes differ', async () => {
    const target = join(dir, 'changed.ocsp');
    await writeFileAtomic(target, bytes('staple v1'));
    const past = new Date('2020-01-01T00:00:00Z');
    await utimes(target, past, past);
    const before = await stat(target);
    expect(await writeFileIfChanged(target, bytes('staple v2'))).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('staple v2');
    expect((await stat(target)).mtimeMs).not.toBe(before.mtimeMs);
  });

  it('writes a missing file, creating its directories', async () => {
    const target = join(dir, 'new/dir/first.ocsp');
    expect(await writeFileIfChanged(target, bytes('first'))).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('first');
  });

  it('treats a prefix of the existing content as a change', async () => {
    const target = join(dir, 'prefix.ocsp');
    await writeFileAtomic(target, bytes('abcdef'));
    expect(await writeFileIfChanged(target, bytes('abc'))).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('abc');
  });

  it('replaces a huge file at the target without reading it (only as many bytes as the new content are compared)', async () => {
    const target = join(dir, 'huge.issuer');
    // Sparse: 2 GiB on paper, nothing on disk. Reading it whole (or up to the 256 MiB state cap) used to fail the write.
    await writeFile(target, '');
    await truncate(target, 2 * 1024 * 1024 * 1024);
    expect(await writeFileIfChanged(target, bytes('issuer pem'))).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('issuer pem');
  });

  it('throws WRITE_FAILED naming the file when the target cannot be read', async () => {
    const target = join(dir, 'is-a-dir.ocsp');
    await mkdir(target);
    await expect(writeFileIfChanged(target, bytes('x'))).rejects.toMatchObject({ code: 'WRITE_FAILED', file: target });
  });
});

describe('removeFileDurable', () => {
  it('removes an existing file and reports true', async () => {
    const target = join(dir, 'gone.ocsp');
    await writeFile(target, 'x');
    expect(await removeFileDurable(target)).toBe(true);
    expect(await readFileIfExists(target)).toBeUndefined();
  });

  it('reports false for a missing file', async () => {
    expect(await removeFileDurable(join(dir, 'never.ocsp'))).toBe(false);
  });

  it('throws WRITE_FAILED naming the path when it cannot remove', async () => {
    const target = join(dir, 'a-directory');
    await mkdir(target);
    await expect(removeFileDurable(target)).rejects.toMatchObject({ code: 'WRITE_FAILED', file: target });
  });
});

describe('readFileIfExists', () => {
  it('returns the bytes of an existing file', async () => {
    await writeFile(join(dir, 'present'), 'data');
    expect(Buffer.from((await readFileIfExists(join(dir, 'present')))!).toString()).toBe('data');
  });

  it('returns undefined for a missing file', async () => {
    expect(await readFileIfExists(join(dir, 'absent'))).toBeUndefined();
  });

  it('refuses a directory as not a regular file', async () => {
    await mkdir(join(dir, 'sub'));
    await expect(readFileIfExists(join(dir, 'sub'))).rejects.toMatchObject({ code: 'FILE_NOT_REGULAR', file: join(dir, 'sub') });
  });

  it('rethrows other errors as Node raised them', async () => {
    await writeFile(join(dir, 'plain'), 'data');
    await expect(readFileIfExists(join(dir, 'plain', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
