// The staple directory scan of createStapleHandler: each real directory once, never /proc or a link to /.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { scanStapleFiles } from '../../../src/servers/node-tls/scan-staple-files.js';
import { makeTempDir, removeTempDir } from '../../helpers/test-pki.js';

let root: string;

beforeEach(async () => {
  root = await makeTempDir();
  await mkdir(path.join(root, 'staples', 'sub'), { recursive: true });
  await writeFile(path.join(root, 'staples', 'sub', 'site.pem.ocsp'), 'x');
});

afterEach(async () => {
  await removeTempDir(root);
});

describe('scanStapleFiles', () => {
  it('does not walk /proc or the whole host through symlinks, and reports both', async () => {
    await symlink('/proc', path.join(root, 'staples', 'proc'));
    await symlink('/', path.join(root, 'staples', 'host'));
    const scan = await scanStapleFiles([path.join(root, 'staples')], true);
    expect([...scan.files.keys()]).toEqual([path.join(root, 'staples', 'sub', 'site.pem.ocsp')]);
    expect(scan.problems.map((p) => path.basename(p.dir)).sort()).toEqual(['host', 'proc']);
  });

  it('walks a directory reached under two names once', async () => {
    await symlink(path.join(root, 'staples', 'sub'), path.join(root, 'staples', 'alias'));
    const scan = await scanStapleFiles([path.join(root, 'staples')], true);
    expect(scan.files.size).toBe(1);
    expect(scan.problems).toEqual([]);
  });
});
