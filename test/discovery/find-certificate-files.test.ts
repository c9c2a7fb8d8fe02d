// The recursive certificate walk: extensions, symlinked directories (certbot live/ -> archive/), loops, own outputs.
import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findCertificateFiles } from '../../src/discovery/index.js';
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
});
