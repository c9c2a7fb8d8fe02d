// End to end: `<crt>.issuer` files for HAProxy are written by default beside the certificates, not with --out, and
// either way on request (--issuer-files / --no-issuer-files, YAML issuerFiles).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportPrivateKeyPem } from '../../src/demo/key-pair.js';
import { createE2eFixture, exists, expectExitCode, type E2eFixture } from './e2e-fixture.js';

let fx: E2eFixture;
let issuerDir: string;
let counter = 0;

beforeAll(async () => {
  fx = await createE2eFixture();
  issuerDir = await fx.makeDir('issuers');
  await copyFile(fx.intermediateFile, path.join(issuerDir, 'intermediate.pem'));
});

afterAll(async () => {
  await fx?.close();
});

/** A key + leaf PEM without its chain (as many HAProxy setups have), in a directory of its own. */
async function leafOnlyPem(): Promise<{ dir: string; certFile: string }> {
  counter += 1;
  const dir = await fx.makeDir(`case-${counter}/certs`);
  const leaf = await fx.issueLeaf({ commonName: `issuer-${counter}.test` });
  const certFile = path.join(dir, 'site.pem');
  await writeFile(certFile, (await exportPrivateKeyPem(leaf.keys)) + leaf.certificate.toPem(), { mode: 0o600 });
  return { dir, certFile };
}

describe('<crt>.issuer files', () => {
  it('are written by default when the staples go beside the certificates', async () => {
    const { dir, certFile } = await leafOnlyPem();
    expectExitCode(await fx.once(['--certs', dir, '--issuer-dir', issuerDir]), 0);
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
    expect(await readFile(`${certFile}.issuer`, 'utf8')).toBe(await readFile(fx.intermediateFile, 'utf8'));
  });

  it('are not written with --no-issuer-files', async () => {
    const { dir, certFile } = await leafOnlyPem();
    expectExitCode(await fx.once(['--certs', dir, '--issuer-dir', issuerDir, '--no-issuer-files']), 0);
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
    expect(await exists(`${certFile}.issuer`)).toBe(false);
  });

  it('are not written by default with --out, where HAProxy would not find the staples anyway', async () => {
    const { dir, certFile } = await leafOnlyPem();
    const out = path.join(path.dirname(dir), 'out');
    expectExitCode(await fx.once(['--certs', dir, '--issuer-dir', issuerDir, '--out', out]), 0);
    expect(await exists(path.join(out, 'site.pem.ocsp'))).toBe(true);
    expect(await exists(`${certFile}.issuer`)).toBe(false);
  });

  it('are written with --out when --issuer-files asks for them', async () => {
    const { dir, certFile } = await leafOnlyPem();
    expectExitCode(await fx.once(['--certs', dir, '--issuer-dir', issuerDir, '--out', path.join(path.dirname(dir), 'out'), '--issuer-files']), 0);
    expect(await exists(`${certFile}.issuer`)).toBe(true);
  });

  it('follow issuerFiles: false in the configuration file', async () => {
    const { dir, certFile } = await leafOnlyPem();
    const configFile = path.join(path.dirname(dir), 'staplerd.yaml');
    await writeFile(configFile, `certs: [certs]\nissuerDir: ${JSON.stringify(issuerDir)}\nissuerFiles: false\n`);
    expectExitCode(await fx.once(['--config', configFile]), 0);
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
    expect(await exists(`${certFile}.issuer`)).toBe(false);
  });

  it('are not written for a full-chain PEM, whose issuer HAProxy finds inside it', async () => {
    counter += 1;
    const dir = await fx.makeDir(`case-${counter}/certs`);
    const { certFile } = await fx.pki.writeLeaf(dir, await fx.issueLeaf({ commonName: 'fullchain-issuer.test' }), 'fullchain', 'site');
    expectExitCode(await fx.once(['--certs', dir]), 0);
    expect(await exists(`${certFile}.issuer`)).toBe(false);
  });
});
