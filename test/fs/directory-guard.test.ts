// The step every recursive walk takes into a directory: once per real directory, never /proc or a link above the tree.
import { describe, it, expect } from '@jest/globals';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { enterDirectory } from '../../src/fs/directory-guard.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();

async function tree(): Promise<string> {
  const root = await makeTempDir('staplerd-guard-');
  dirs.push(root);
  await mkdir(path.join(root, 'sub'));
  await writeFile(path.join(root, 'sub', 'site.pem'), 'x');
  return root;
}

describe('enterDirectory', () => {
  it('lists a directory the first time and reports it as visited when another link leads there', async () => {
    const root = await tree();
    await symlink('sub', path.join(root, 'again'));
    const visited = new Set<string>();
    const first = await enterDirectory(path.join(root, 'sub'), undefined, visited);
    expect(first.kind === 'entered' && first.entries.map((entry) => entry.name)).toEqual(['site.pem']);
    expect(await enterDirectory(path.join(root, 'again'), undefined, visited)).toEqual({ kind: 'visited' });
  });

  it('refuses a link to a directory above the one holding it', async () => {
    const root = await tree();
    await symlink('..', path.join(root, 'sub', 'up'));
    const visited = new Set<string>();
    const sub = await enterDirectory(path.join(root, 'sub'), undefined, visited);
    if (sub.kind !== 'entered') throw new Error(`expected entered, got ${sub.kind}`);
    const up = await enterDirectory(path.join(root, 'sub', 'up'), sub.here, visited);
    expect(up).toMatchObject({ kind: 'refused', reason: expect.stringContaining('above the directory holding it') });
  });

  it('refuses a kernel pseudo-filesystem', async () => {
    expect(await enterDirectory('/proc', undefined, new Set())).toMatchObject({ kind: 'refused', reason: expect.stringContaining('pseudo-filesystem') });
  });

  it('reports a directory that cannot be read with its errno', async () => {
    const root = await tree();
    expect(await enterDirectory(path.join(root, 'missing'), undefined, new Set())).toMatchObject({ kind: 'failed', error: { code: 'ENOENT' } });
  });
});
