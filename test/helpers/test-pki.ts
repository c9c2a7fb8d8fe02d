// Test builders: a throwaway PKI and its leaves written to disk in the layouts staplerd meets in the wild.
import { afterAll } from '@jest/globals';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createDemoAuthority,
  issueLeaf,
  type DemoAuthority,
  type DemoAuthorityOptions,
  type IssuedIdentity,
  type LeafOptions,
} from '../../src/demo/demo-pki.js';
import { exportPrivateKeyPem } from '../../src/demo/key-pair.js';
import { writeLeafFiles } from '../../src/demo/write-leaf-files.js';

export interface TestPki {
  readonly authority: DemoAuthority;
  /** A leaf from the intermediate; commonName defaults to "example.test". */
  issueLeaf(options?: Partial<LeafOptions>): Promise<IssuedIdentity>;
  /** Writes root.pem and intermediate.pem into dir (for `openssl -CAfile` / `-untrusted`, or as issuer files). */
  writeCaFiles(dir: string): Promise<{ rootFile: string; intermediateFile: string }>;
  /** Writes a leaf in one of the layouts below; see LeafLayout. */
  writeLeaf(dir: string, leaf: IssuedIdentity, layout: LeafLayout, name?: string): Promise<WrittenLeaf>;
}

/**
 * - 'leaf':      NAME.pem (the leaf alone) + NAME.key
 * - 'fullchain': NAME.pem (leaf, intermediate) + NAME.key
 * - 'certbot':   NAME/cert.pem, NAME/chain.pem, NAME/fullchain.pem, NAME/privkey.pem (as in /etc/letsencrypt/live/NAME)
 * - 'haproxy':   NAME.pem (private key, leaf, intermediate in one file, as HAProxy's `crt` loads it)
 */
export type LeafLayout = 'leaf' | 'fullchain' | 'certbot' | 'haproxy';

export interface WrittenLeaf {
  /** The file a TLS server would be configured with (certbot: fullchain.pem). */
  readonly certFile: string;
  /** Every file written. */
  readonly files: readonly string[];
}

export async function createTestPki(options: DemoAuthorityOptions = {}): Promise<TestPki> {
  const authority = await createDemoAuthority(options);
  return {
    authority,
    issueLeaf: (leafOptions = {}) => issueLeaf(authority, { commonName: 'example.test', ...leafOptions }),
    writeCaFiles: (dir) => writeCaFiles(authority, dir),
    writeLeaf: (dir, leaf, layout, name = 'example') => writeLeaf(authority, dir, leaf, layout, name),
  };
}

/** A fresh directory under the OS temp dir; pair with removeTempDir in afterAll. */
export function makeTempDir(prefix = 'staplerd-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** Whether `file` can be reached (a link is followed: a dangling one does not count). */
export async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

async function writeCaFiles(authority: DemoAuthority, dir: string): Promise<{ rootFile: string; intermediateFile: string }> {
  const rootFile = path.join(dir, 'root.pem');
  const intermediateFile = path.join(dir, 'intermediate.pem');
  await writeFile(rootFile, authority.root.certificate.toPem());
  await writeFile(intermediateFile, authority.intermediate.certificate.toPem());
  return { rootFile, intermediateFile };
}

/**
 * The demo's own writer for the layouts it shares; 'certbot' here is one live/NAME directory of plain files (tests
 * look at a single directory), where the demo builds certbot's live/ -> archive/ links.
 */
async function writeLeaf(authority: DemoAuthority, dir: string, leaf: IssuedIdentity, layout: LeafLayout, name: string): Promise<WrittenLeaf> {
  if (layout !== 'certbot') return writeLeafFiles(authority, dir, leaf, layout, name);
  const cert = leaf.certificate.toPem();
  const chain = authority.intermediate.certificate.toPem();
  const live = path.join(dir, name);
  await mkdir(live, { recursive: true });
  const write = async (base: string, contents: string, mode = 0o644): Promise<string> => {
    await writeFile(path.join(live, base), contents, { mode });
    return path.join(live, base);
  };
  const files = [
    await write('cert.pem', cert),
    await write('chain.pem', chain),
    await write('fullchain.pem', cert + chain),
    // Owner-only, as certbot keeps it.
    await write('privkey.pem', await exportPrivateKeyPem(leaf.keys), 0o600),
  ];
  return { certFile: files[2], files };
}

/** A list to push temp directories onto; they are all removed after the test file (the usual afterAll, once). */
export function removeTempDirsAfterAll(): string[] {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => removeTempDir(dir)));
  });
  return dirs;
}
