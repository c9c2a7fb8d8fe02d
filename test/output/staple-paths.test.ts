// Staple output paths: beside the certificate, or mirrored under an output directory.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSymlinkUnderOut, stapleOutputPath } from '../../src/output/index.js';
import { StaplerdError } from '../../src/errors/index.js';

describe('stapleOutputPath', () => {
  it('puts the staple beside the certificate with an .ocsp suffix by default', () => {
    expect(stapleOutputPath('/etc/haproxy/certs/site.pem', { certsRoot: '/etc/haproxy/certs' })).toBe('/etc/haproxy/certs/site.pem.ocsp');
  });

  it('mirrors the tree below the certificates root into outDir', () => {
    const path = stapleOutputPath('/etc/letsencrypt/live/example.com/fullchain.pem', { certsRoot: '/etc/letsencrypt', outDir: '/var/lib/staplerd' });
    expect(path).toBe('/var/lib/staplerd/live/example.com/fullchain.pem.ocsp');
  });

  it('accepts a certificates root written with a trailing slash', () => {
    const path = stapleOutputPath('/certs/a/b.pem', { certsRoot: '/certs/', outDir: '/out' });
    expect(path).toBe('/out/a/b.pem.ocsp');
  });

  it('uses the bare file name when the certificates root is the certificate itself', () => {
    expect(stapleOutputPath('/certs/one.pem', { certsRoot: '/certs/one.pem', outDir: '/out' })).toBe('/out/one.pem.ocsp');
  });

  it.each([
    { certFile: '/elsewhere/x.pem', label: 'in another tree' },
    { certFile: '/certs/../x.pem', label: 'escaping through ..' },
  ])('refuses to mirror a certificate $label', ({ certFile }) => {
    let thrown: unknown;
    try {
      stapleOutputPath(certFile, { certsRoot: '/certs', outDir: '/out' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StaplerdError);
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', file: certFile });
  });

  it('keeps a file name that merely starts with two dots inside the mirror', () => {
    expect(stapleOutputPath('/certs/..hidden.pem', { certsRoot: '/certs', outDir: '/out' })).toBe('/out/..hidden.pem.ocsp');
  });

  describe('with certbot-style symlinks', () => {
    let root: string;

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'staplerd-paths-'));
      await mkdir(join(root, 'certs/archive/example.com'), { recursive: true });
      await mkdir(join(root, 'certs/live/example.com'), { recursive: true });
      await writeFile(join(root, 'certs/archive/example.com/fullchain1.pem'), 'pem');
      await symlink('../../archive/example.com/fullchain1.pem', join(root, 'certs/live/example.com/fullchain.pem'));
    });

    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('follows the discovered live/ name, not the archive/ file the symlink points to', () => {
      const certFile = join(root, 'certs/live/example.com/fullchain.pem');
      expect(stapleOutputPath(certFile, { certsRoot: join(root, 'certs'), outDir: join(root, 'out') })).toBe(join(root, 'out/live/example.com/fullchain.pem.ocsp'));
      expect(stapleOutputPath(certFile, { certsRoot: join(root, 'certs') })).toBe(`${certFile}.ocsp`);
    });
  });
});

describe('findSymlinkUnderOut', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'staplerd-out-'));
    await mkdir(join(out, 'real', 'example.com'), { recursive: true });
    await mkdir(join(out, 'target'));
    await symlink(join(out, 'target'), join(out, 'linked'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('finds a symlinked directory between the output directory and the staple', () => {
    expect(findSymlinkUnderOut(join(out, 'linked', 'example.com', 'site.pem.ocsp'), out)).toBe(join(out, 'linked'));
  });

  it('passes real directories and directories still to be created', () => {
    expect(findSymlinkUnderOut(join(out, 'real', 'example.com', 'site.pem.ocsp'), out)).toBeUndefined();
    expect(findSymlinkUnderOut(join(out, 'new', 'deeper', 'site.pem.ocsp'), out)).toBeUndefined();
  });

  it('does not judge the output directory itself, which the operator chose', () => {
    expect(findSymlinkUnderOut(join(out, 'linked', 'site.pem.ocsp'), join(out, 'linked'))).toBeUndefined();
  });
});
