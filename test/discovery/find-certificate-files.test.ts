// The recursive certificate walk: extensions, symlinked directories (certbot live/ -> archive/), loops, own outputs.
import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findCertificateFiles } from '../../src/discovery/index.js';
import type { StaplerdError } from '../../src/errors/index.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';

const EXTENSIONS = ['.pem', '.crt', '.cer'];
const itUnlessRoot = process.getuid?.() === 0 ? it.skip : it;
let root: string;

beforeEach(async () => {
  root = await makeTempDir();
});

afterEach(async () => {
  await removeTempDir(root);
});

/** Creates the files (contents do not matter to the walk) and their directories. */
async function touch(...relatives: string[]): Promise<void> {
  for (const relative of relatives) {
    const file = path.join(root, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, 'x');
  }
}

async function found(roots: string[] = [path.join(root, 'certs')], extensions = EXTENSIONS): Promise<string[]> {
  const files = await findCertificateFiles(roots, { extensions });
  return files.map((f) => path.relative(root, f.file));
}

describe('findCertificateFiles', () => {
  it('finds files with the configured extensions at any depth, case-insensitively, sorted', async () => {
    await touch('certs/b.pem', 'certs/a/deep/er/site.CRT', 'certs/c.cer', 'certs/readme.txt', 'certs/key.key', 'certs/a/x.pem');
    expect(await found()).toEqual(['certs/a/deep/er/site.CRT', 'certs/a/x.pem', 'certs/b.pem', 'certs/c.cer']);
  });

  it('takes a certificate file named as a root as it is, with its own directory as the root', async () => {
    await touch('haproxy/site.pem', 'haproxy/other.pem', 'haproxy/bundle.chain');
    const files = await findCertificateFiles([path.join(root, 'haproxy', 'site.pem'), path.join(root, 'haproxy', 'bundle.chain')], { extensions: EXTENSIONS });
    expect(files.map((f) => [path.relative(root, f.file), path.relative(root, f.certsRoot)])).toEqual([
      ['haproxy/bundle.chain', 'haproxy'],
      ['haproxy/site.pem', 'haproxy'],
    ]);
  });

  it('only takes the extensions it is given', async () => {
    await touch('certs/a.pem', 'certs/b.crt');
    expect(await found(undefined, ['.crt'])).toEqual(['certs/b.crt']);
  });

  it('records the root each file was found under', async () => {
    await touch('one/a.pem', 'two/b.pem');
    const files = await findCertificateFiles([path.join(root, 'one'), path.join(root, 'two')], { extensions: EXTENSIONS });
    expect(files.map((f) => [path.relative(root, f.file), path.relative(root, f.certsRoot)])).toEqual([
      ['one/a.pem', 'one'],
      ['two/b.pem', 'two'],
    ]);
  });

  it('follows symlinked directories and files, keeping the path as reached', async () => {
    await touch('elsewhere/site/cert.pem', 'archive/fullchain1.pem');
    await mkdir(path.join(root, 'certs', 'live'), { recursive: true });
    await symlink(path.join(root, 'elsewhere'), path.join(root, 'certs', 'linked'));
    await symlink(path.join(root, 'archive', 'fullchain1.pem'), path.join(root, 'certs', 'live', 'fullchain.pem'));
    expect(await found()).toEqual(['certs/linked/site/cert.pem', 'certs/live/fullchain.pem']);
  });

  it('survives a symlink loop and lists each file once', async () => {
    await touch('certs/sub/a.pem');
    await symlink(path.join(root, 'certs'), path.join(root, 'certs', 'sub', 'back-to-top'));
    await symlink('.', path.join(root, 'certs', 'self'));
    expect(await found()).toEqual(['certs/sub/a.pem']);
  });

  it('skips dangling symlinks', async () => {
    await touch('certs/a.pem');
    await symlink(path.join(root, 'nowhere.pem'), path.join(root, 'certs', 'gone.pem'));
    expect(await found()).toEqual(['certs/a.pem']);
  });

  it('never lists its own staples, issuer files or temp files, even when the extensions would match them', async () => {
    await touch('certs/a.pem', 'certs/a.pem.ocsp', 'certs/a.pem.issuer', 'certs/.a.pem.ocsp.staplerd-123-abcdef.tmp');
    expect(await found(undefined, ['.pem', '.ocsp', '.tmp', '.issuer'])).toEqual(['certs/a.pem']);
  });

  it('reports an unreadable root and continues with the others', async () => {
    await touch('good/a.pem');
    const errors: string[] = [];
    const files = await findCertificateFiles([path.join(root, 'missing'), path.join(root, 'good')], {
      extensions: EXTENSIONS,
      onError: (dir, error) => errors.push(`${path.relative(root, dir)} ${error.code}`),
    });
    expect(files.map((f) => path.relative(root, f.file))).toEqual(['good/a.pem']);
    expect(errors).toEqual(['missing ENOENT']);
  });

  // root reads every directory whatever its mode, so there is nothing to observe there.
  itUnlessRoot('reports an unreadable subdirectory and continues', async () => {
    await touch('certs/locked/a.pem', 'certs/b.pem');
    await chmod(path.join(root, 'certs', 'locked'), 0o000);
    const errors: string[] = [];
    try {
      const files = await findCertificateFiles([path.join(root, 'certs')], { extensions: EXTENSIONS, onError: (dir) => errors.push(path.relative(root, dir)) });
      expect(files.map((f) => path.relative(root, f.file))).toEqual(['certs/b.pem']);
      expect(errors).toEqual(['certs/locked']);
    } finally {
      await chmod(path.join(root, 'certs', 'locked'), 0o755);
    }
  });

  it('lists a file reachable under two configured roots once', async () => {
    await touch('certs/sub/a.pem');
    const files = await findCertificateFiles([path.join(root, 'certs'), path.join(root, 'certs')], { extensions: EXTENSIONS });
    expect(files).toHaveLength(1);
  });

  describe('hostile trees', () => {
    /** The walk with its refusals, as `relative-path CODE`. */
    async function walk(roots: string[] = [path.join(root, 'certs')]): Promise<{ files: string[]; refused: string[] }> {
      const refused: string[] = [];
      const onRefused = (file: string, error: StaplerdError): void => {
        refused.push(`${path.relative(root, file)} ${error.code}`);
      };
      const files = await findCertificateFiles(roots, { extensions: EXTENSIONS, onRefused });
      return { files: files.map((f) => path.relative(root, f.file)), refused: refused.sort() };
    }

    it('does not descend into /proc through a symlink, and says so', async () => {
      await touch('certs/site.pem');
      await symlink('/proc', path.join(root, 'certs', 'proc'));
      expect(await walk()).toEqual({ files: ['certs/site.pem'], refused: ['certs/proc DIRECTORY_REFUSED'] });
    });

    it('does not descend into /sys or /dev through symlinks', async () => {
      await touch('certs/site.pem');
      await symlink('/sys', path.join(root, 'certs', 'sys'));
      await symlink('/dev', path.join(root, 'certs', 'dev'));
      expect(await walk()).toEqual({ files: ['certs/site.pem'], refused: ['certs/dev DIRECTORY_REFUSED', 'certs/sys DIRECTORY_REFUSED'] });
    });

    it('does not walk the whole host through a symlink to /', async () => {
      await touch('certs/site.pem');
      await symlink('/', path.join(root, 'certs', 'host'));
      expect(await walk()).toEqual({ files: ['certs/site.pem'], refused: ['certs/host DIRECTORY_REFUSED'] });
    });

    it('ends a symlink loop back into the tree quietly, as a directory already walked', async () => {
      await touch('certs/sub/a.pem');
      await symlink('..', path.join(root, 'certs', 'sub', 'up'));
      expect(await walk()).toEqual({ files: ['certs/sub/a.pem'], refused: [] });
    });

    it('walks a directory reached under two names once', async () => {
      await touch('certs/real/a.pem');
      await symlink(path.join(root, 'certs', 'real'), path.join(root, 'certs', 'alias'));
      const { files, refused } = await walk();
      expect(files).toHaveLength(1);
      expect(refused).toEqual([]);
    });

    it('names a FIFO or a device link with a certificate name instead of reading it', async () => {
      await touch('certs/site.pem');
      execFileSync('mkfifo', [path.join(root, 'certs', 'pipe.pem')]);
      await symlink('/dev/zero', path.join(root, 'certs', 'zero.crt'));
      expect(await walk()).toEqual({ files: ['certs/site.pem'], refused: ['certs/pipe.pem FILE_NOT_REGULAR', 'certs/zero.crt FILE_NOT_REGULAR'] });
    });

    it('refuses a certificate or directory name that is not UTF-8 visibly, on every walk', async () => {
      await touch('certs/site.pem');
      const certs = Buffer.from(path.join(root, 'certs') + '/');
      await writeFile(Buffer.concat([certs, Buffer.from('caf\xe9.pem', 'latin1')]), 'x');
      await mkdir(Buffer.concat([certs, Buffer.from('d\xfcr', 'latin1')]));
      await writeFile(Buffer.concat([certs, Buffer.from('notes-\xff.txt', 'latin1')]), 'x'); // not a certificate name: ignored
      const expected = { files: ['certs/site.pem'], refused: ['certs/caf\\xe9.pem FILE_NAME_UNSUPPORTED', 'certs/d\\xfcr FILE_NAME_UNSUPPORTED'] };
      expect(await walk()).toEqual(expected);
      expect(await walk()).toEqual(expected);
    });

    it('walks a name that really contains U+FFFD like any other', async () => {
      await touch('certs/odd-\uFFFD.pem');
      expect(await walk()).toEqual({ files: ['certs/odd-\uFFFD.pem'], refused: [] });
    });
  });
});
