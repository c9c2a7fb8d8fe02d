// The bounded, non-blocking reader every file read goes through: FIFOs, devices and oversized files are refused.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readRegularFileIfExistsSync, readRegularFileSync } from '../../src/fs/read-regular-file.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir();
});

afterEach(async () => {
  await removeTempDir(dir);
});

/** A named pipe nobody writes to: a blocking open(2) for reading would wait forever. */
function makeFifo(name: string): string {
  const file = path.join(dir, name);
  execFileSync('mkfifo', [file]);
  return file;
}

describe('readRegularFileSync', () => {
  it('returns the bytes of a regular file up to its cap', async () => {
    const file = path.join(dir, 'exact.pem');
    await writeFile(file, 'x'.repeat(100));
    expect(readRegularFileSync(file, { maxBytes: 100 }).toString()).toBe('x'.repeat(100));
  });

  it('reads an empty file as no bytes', async () => {
    const file = path.join(dir, 'empty.pem');
    await writeFile(file, '');
    expect(readRegularFileSync(file, { maxBytes: 10 })).toHaveLength(0);
  });

  it('refuses a FIFO without waiting for a writer, naming the file', () => {
    const fifo = makeFifo('site.pem.ocsp');
    expect(() => readRegularFileSync(fifo, { maxBytes: 1024 })).toThrow(expect.objectContaining({ code: 'FILE_NOT_REGULAR', file: fifo, message: expect.stringContaining('FIFO') }));
  });

  it('refuses a symlink to /dev/zero as a character device instead of reading forever', async () => {
    const link = path.join(dir, 'zero.ocsp');
    await symlink('/dev/zero', link);
    expect(() => readRegularFileSync(link, { maxBytes: 1024 })).toThrow(expect.objectContaining({ code: 'FILE_NOT_REGULAR', file: link, message: expect.stringContaining('character device') }));
  });

  it('refuses a directory', async () => {
    await mkdir(path.join(dir, 'sub'));
    expect(() => readRegularFileSync(path.join(dir, 'sub'), { maxBytes: 1024 })).toThrow(expect.objectContaining({ code: 'FILE_NOT_REGULAR' }));
  });

  it('refuses a file one byte over its cap, saying the size and the cap', async () => {
    const file = path.join(dir, 'big.pem');
    await writeFile(file, 'x'.repeat(101));
    expect(() => readRegularFileSync(file, { maxBytes: 100 })).toThrow(expect.objectContaining({ code: 'FILE_TOO_LARGE', file, message: expect.stringContaining('101 bytes, more than the 100') }));
  });

  it('follows a symlink to a regular file unless told not to', async () => {
    const target = path.join(dir, 'target.pem');
    const link = path.join(dir, 'link.pem');
    await writeFile(target, 'data');
    await symlink(target, link);
    expect(readRegularFileSync(link, { maxBytes: 10 }).toString()).toBe('data');
    expect(() => readRegularFileSync(link, { maxBytes: 10, noFollow: true })).toThrow(expect.objectContaining({ code: 'ELOOP' }));
  });

  it('rethrows a missing file as Node raised it', () => {
    expect(() => readRegularFileSync(path.join(dir, 'absent'), { maxBytes: 10 })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('readRegularFileIfExistsSync', () => {
  it('returns undefined for a missing file', () => {
    expect(readRegularFileIfExistsSync(path.join(dir, 'absent'), { maxBytes: 10 })).toBeUndefined();
  });

  it('still refuses a FIFO', () => {
    const fifo = makeFifo('status.json');
    expect(() => readRegularFileIfExistsSync(fifo, { maxBytes: 10 })).toThrow(expect.objectContaining({ code: 'FILE_NOT_REGULAR' }));
  });
});
