// Writes a leaf certificate to disk in the layouts staplerd meets in the wild (used by the demo and the tests).
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportPrivateKeyPem } from './key-pair.js';
import type { DemoAuthority, IssuedIdentity } from './demo-pki.js';

/**
 * - 'leaf':      NAME.pem (the leaf alone) + NAME.key
 * - 'fullchain': NAME.pem (leaf, intermediate) + NAME.key
 * - 'certbot':   live/NAME/{cert,chain,fullchain,privkey}.pem as symlinks into archive/NAME/*1.pem, as certbot lays out
 *                /etc/letsencrypt (https://eff-certbot.readthedocs.io/en/stable/using.html#where-are-my-certificates)
 * - 'haproxy':   NAME.pem (private key, leaf, intermediate in one file, as HAProxy's `crt` loads it)
 */
export type LeafLayout = 'leaf' | 'fullchain' | 'certbot' | 'haproxy';

export interface WrittenLeaf {
  /** The file a TLS server would be configured with (certbot: live/NAME/fullchain.pem). */
  readonly certFile: string;
  /** Every file written (certbot: the live/ links). */
  readonly files: readonly string[];
}

export async function writeLeafFiles(authority: DemoAuthority, dir: string, leaf: IssuedIdentity, layout: LeafLayout, name: string): Promise<WrittenLeaf> {
  const cert = leaf.certificate.toPem();
  const chain = authority.intermediate.certificate.toPem();
  const key = await exportPrivateKeyPem(leaf.keys);
  // Files holding the private key are owner-only, as certbot and HAProxy setups keep them.
  const write = async (file: string, contents: string, secret = false): Promise<string> => {
    await writeFile(file, contents, { mode: secret ? 0o600 : 0o644 });
    return file;
  };
  switch (layout) {
    case 'leaf':
    case 'fullchain': {
      const certFile = await write(path.join(dir, `${name}.pem`), layout === 'leaf' ? cert : cert + chain);
      return { certFile, files: [certFile, await write(path.join(dir, `${name}.key`), key, true)] };
    }
    case 'haproxy': {
      const certFile = await write(path.join(dir, `${name}.pem`), key + cert + chain, true);
      return { certFile, files: [certFile] };
    }
    case 'certbot': {
      const archive = path.join(dir, 'archive', name);
      const live = path.join(dir, 'live', name);
      await mkdir(archive, { recursive: true });
      await mkdir(live, { recursive: true });
      const contents: Record<string, [string, boolean]> = {
        cert: [cert, false],
        chain: [chain, false],
        fullchain: [cert + chain, false],
        privkey: [key, true],
      };
      const files: string[] = [];
      for (const [base, [text, secret]] of Object.entries(contents)) {
        await write(path.join(archive, `${base}1.pem`), text, secret);
        const link = path.join(live, `${base}.pem`);
        await symlink(path.join('..', '..', 'archive', name, `${base}1.pem`), link);
        files.push(link);
      }
      return { certFile: path.join(live, 'fullchain.pem'), files };
    }
  }
}
