// The undelivered hook paths file: a round trip, removal when empty, and every hostile stand-in refused as STATE_CORRUPT.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmod, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StaplerdError } from '../../src/errors/index.js';
import { loadUndeliveredHookPaths, saveUndeliveredHookPaths, undeliveredHookPathsFilePath } from '../../src/state/index.js';
import { exists, makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();

async function stateDir(): Promise<string> {
  const dir = await makeTempDir('staplerd-undelivered-');
  dirs.push(dir);
  return dir;
}

async function load(dir: string): Promise<{ paths: string[]; problems: StaplerdError[] }> {
  const problems: StaplerdError[] = [];
  const paths = await loadUndeliveredHookPaths(dir, (error) => problems.push(error));
  return { paths, problems };
}

describe('undelivered hook paths', () => {
  it('round-trips the paths (sorted, owner-only mode) and removes the file once they are delivered', async () => {
    const dir = await stateDir();
    await saveUndeliveredHookPaths(dir, ['/certs/b.pem.ocsp', '/certs/a.pem.ocsp']);
    expect((await stat(undeliveredHookPathsFilePath(dir))).mode & 0o777).toBe(0o600);
    expect(await load(dir)).toEqual({ paths: ['/certs/a.pem.ocsp', '/certs/b.pem.ocsp'], problems: [] });

    await saveUndeliveredHookPaths(dir, []);
    expect(await exists(undeliveredHookPathsFilePath(dir))).toBe(false);
    expect(await load(dir)).toEqual({ paths: [], problems: [] });
  });

  it.each([
    { what: 'a FIFO', plant: async (file: string) => execFileSync('mkfifo', [file]) },
    { what: 'a symlink to a list elsewhere', plant: async (file: string) => {
      const elsewhere = `${file}.elsewhere`;
      await writeFile(elsewhere, JSON.stringify({ version: 1, paths: ['/etc/shadow'] }), { mode: 0o600 });
      await symlink(elsewhere, file);
    } },
    { what: 'a group-writable file', plant: async (file: string) => {
      await writeFile(file, JSON.stringify({ version: 1, paths: ['/etc/shadow'] }));
      await chmod(file, 0o620);
    } },
    { what: 'another format version', plant: (file: string) => writeFile(file, JSON.stringify({ version: 2, paths: ['/a'] }), { mode: 0o600 }) },
    { what: 'a path holding NUL', plant: (file: string) => writeFile(file, JSON.stringify({ version: 1, paths: ['/a\u0000b'] }), { mode: 0o600 }) },
    { what: 'a path over PATH_MAX', plant: (file: string) => writeFile(file, JSON.stringify({ version: 1, paths: [`/${'a'.repeat(5000)}`] }), { mode: 0o600 }) },
    { what: 'a list of numbers', plant: (file: string) => writeFile(file, JSON.stringify({ version: 1, paths: [1, 2] }), { mode: 0o600 }) },
  ])('refuses $what as STATE_CORRUPT naming the file, and hands the hook nothing from it', async ({ plant }) => {
    const dir = await stateDir();
    const file = undeliveredHookPathsFilePath(dir);
    await plant(file);

    const { paths, problems } = await load(dir);

    expect(paths).toEqual([]);
    expect(problems.map((e) => ({ code: e.code, file: e.file }))).toEqual([{ code: 'STATE_CORRUPT', file }]);
  });

  it('replaces a damaged file at the next save', async () => {
    const dir = await stateDir();
    await writeFile(path.join(dir, 'undelivered-hook-paths.json'), 'garbage', { mode: 0o600 });
    await saveUndeliveredHookPaths(dir, ['/certs/a.pem.ocsp']);
    expect(await load(dir)).toEqual({ paths: ['/certs/a.pem.ocsp'], problems: [] });
  });
});
