// Loading one staple file for createStapleHandler: bounded and non-blocking, whatever sits at the name.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { loadStapleFile } from '../../../src/servers/node-tls/staple-file.js';
import { makeTempDir, removeTempDir } from '../../helpers/test-pki.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir();
});

afterEach(async () => {
  await removeTempDir(dir);
});

describe('loadStapleFile', () => {
  it('refuses a FIFO as FILE_NOT_REGULAR naming it, instead of blocking the server', async () => {
    const fifo = path.join(dir, 'site.pem.ocsp');
    execFileSync('mkfifo', [fifo]);
    await expect(loadStapleFile(fifo)).rejects.toMatchObject({ code: 'FILE_NOT_REGULAR', file: fifo });
  });

  it('refuses a staple linked to /dev/zero instead of reading forever', async () => {
    const link = path.join(dir, 'zero.pem.ocsp');
    await symlink('/dev/zero', link);
    await expect(loadStapleFile(link)).rejects.toMatchObject({ code: 'FILE_NOT_REGULAR', file: link });
  });

  it('still treats a vanished file as absent', async () => {
    expect(await loadStapleFile(path.join(dir, 'gone.pem.ocsp'))).toBeUndefined();
  });
});
