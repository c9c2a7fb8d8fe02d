// loadStapleFile: a staple that cannot be read is STAPLE_UNREADABLE naming it (not a certificate's CERT_UNREADABLE).
import { describe, expect, it } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadStapleFile } from '../../../src/servers/node-tls/staple-file.js';
import { makeTempDir, removeTempDirsAfterAll } from '../../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();

describe('loadStapleFile', () => {
  it('rejects a directory at the staple path with FILE_NOT_REGULAR naming the file, reading nothing', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    // A path through a regular file (ENOTDIR): unreadable even for root, unlike a mode-000 file.
    await writeFile(path.join(dir, 'site.pem'), 'not a directory');
    const file = path.join(dir, 'site.pem', 'site.pem.ocsp');

    await expect(loadStapleFile(file)).rejects.toMatchObject({ code: 'STAPLE_UNREADABLE', file });
  });

  it('refuses a directory in place of a staple as FILE_NOT_REGULAR naming it, without reading', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const file = path.join(dir, 'site.pem.ocsp');
    await mkdir(file);

    await expect(loadStapleFile(file)).rejects.toMatchObject({ code: 'FILE_NOT_REGULAR', file });
  });

  it('answers undefined for a staple that is not there', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    await expect(loadStapleFile(path.join(dir, 'gone.pem.ocsp'))).resolves.toBeUndefined();
  });
});
