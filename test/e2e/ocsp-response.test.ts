// The built staplerd-ocsp-response executable (H2O's ocsp-update-cmd contract) against the in-process responder.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/run-cli.js';
import { createE2eFixture, exists, verifyWithOpenssl, type E2eFixture } from './e2e-fixture.js';

const OCSP_RESPONSE_BIN = path.join(PROJECT_ROOT, 'dist', 'cli', 'ocsp-response-main.js');

interface BinaryResult {
  readonly code: number | null;
  /** Raw bytes: stdout is DER. */
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs the built executable directly (its shebang and +x bit, as H2O execs it), killed after 20 s. */
function runOcspResponse(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<BinaryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(OCSP_RESPONSE_BIN, [...args], { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
  });
}

function expectStatus(result: BinaryResult, code: number): void {
  expect({ code: result.code, stderr: result.code === code ? '' : result.stderr }).toEqual({ code, stderr: '' });
}

describe('staplerd-ocsp-response (H2O ocsp-update-cmd)', () => {
  let fx: E2eFixture;
  let stateDir: string;
  let counter = 0;

  /** A fresh leaf with its chain in `<dir>/<name>.pem`, and its reference PEM for openssl. */
  async function writeSite(name: string, options: { ocspUrls?: string[]; dir?: string; layout?: 'fullchain' | 'leaf' } = {}) {
    const dir = options.dir ?? (await fx.makeDir(`site-${++counter}`));
    const leaf = await fx.issueLeaf({ commonName: `${name}.test`, ...(options.ocspUrls ? { ocspUrls: options.ocspUrls } : {}) });
    const written = await fx.pki.writeLeaf(dir, leaf, options.layout ?? 'fullchain', name);
    return { dir, leaf, certFile: written.certFile, leafPem: await fx.writeReferencePem(leaf) };
  }

  beforeAll(async () => {
    fx = await createE2eFixture();
    stateDir = await fx.makeDir('state-h2o');
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('prints the DER it wrote beside the certificate, which openssl verifies as good, and exits 0 (logs on stderr)', async () => {
    const site = await writeSite('first');

    const result = await runOcspResponse(['--state-dir', stateDir, '--log-level', 'debug', site.certFile]);

    expectStatus(result, 0);
    const onDisk = await readFile(`${site.certFile}.ocsp`);
    expect(result.stdout.toString('base64')).toBe(onDisk.toString('base64'));
    const printed = path.join(fx.root, 'printed-1.der');
    await writeFile(printed, result.stdout);
    const verdict = await verifyWithOpenssl(printed, site.leafPem, fx);
    expect({ verified: verdict.verified, status: verdict.status }).toEqual({ verified: true, status: 'good' });
    expect(result.stderr).toMatch(/printed the good staple for H2O/);
  });

  it('prints the staple staplerd already keeps without asking the responder again', async () => {
    const site = await writeSite('kept');
    expectStatus(await runOcspResponse(['--state-dir', stateDir, site.certFile]), 0);
    const kept = await readFile(`${site.certFile}.ocsp`);
    const requestsBefore = fx.responder.requestCount;

    const result = await runOcspResponse(['--state-dir', stateDir, site.certFile]);

    expectStatus(result, 0);
    expect(fx.responder.requestCount).toBe(requestsBefore);
    expect(result.stdout.toString('base64')).toBe(kept.toString('base64'));
  });

  it('exits 75 with nothing on stdout when the responder fails and no staple exists', async () => {
    const site = await writeSite('down');
    fx.responder.setFault('http-500');
    try {
      const result = await runOcspResponse(['--state-dir', stateDir, site.certFile]);
      expectStatus(result, 75);
      expect(result.stdout.length).toBe(0);
      expect(await exists(`${site.certFile}.ocsp`)).toBe(false);
    } finally {
      fx.responder.setFault('none');
    }
  });

  it('never prints an invalid staple file: garbage on disk and a failing responder exit 75 with empty stdout', async () => {
    const site = await writeSite('garbage');
    await writeFile(`${site.certFile}.ocsp`, Buffer.from('not an OCSP response'));
    fx.responder.setFault('http-500');
    try {
      const result = await runOcspResponse(['--state-dir', stateDir, site.certFile]);
      expectStatus(result, 75);
      expect(result.stdout.length).toBe(0);
    } finally {
      fx.responder.setFault('none');
    }
  });

  it('exits 1 (permanent) with empty stdout for a certificate without an OCSP URL', async () => {
    const site = await writeSite('no-ocsp', { ocspUrls: [] });
    const result = await runOcspResponse(['--state-dir', stateDir, site.certFile]);
    expectStatus(result, 1);
    expect(result.stdout.length).toBe(0);
  });

  it('exits 1 (permanent) for a file that is not a certificate', async () => {
    const dir = await fx.makeDir('not-a-cert');
    const file = path.join(dir, 'junk.pem');
    await writeFile(file, 'hello\n');
    const result = await runOcspResponse(['--state-dir', stateDir, file]);
    expectStatus(result, 1);
    expect(result.stdout.length).toBe(0);
  });

  it('prints a revoked answer (truthful, as staplerd writes it), and nothing with --revoked-action remove (exit 1)', async () => {
    const site = await writeSite('revoked');
    fx.responder.setStatus(site.leaf.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(Date.now() - 60_000) });

    const stapled = await runOcspResponse(['--state-dir', stateDir, site.certFile]);
    expectStatus(stapled, 0);
    const printed = path.join(fx.root, 'printed-revoked.der');
    await writeFile(printed, stapled.stdout);
    expect((await verifyWithOpenssl(printed, site.leafPem, fx)).status).toBe('revoked');

    // A second certificate, so the answer is fetched (a fresh revoked staple on disk is left as `once` leaves it).
    const other = await writeSite('revoked-removed');
    fx.responder.setStatus(other.leaf.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(Date.now() - 60_000) });
    const removed = await runOcspResponse(['--state-dir', stateDir, '--revoked-action', 'remove', other.certFile]);
    expectStatus(removed, 1);
    expect(removed.stdout.length).toBe(0);
    expect(await exists(`${other.certFile}.ocsp`)).toBe(false);
  });

  it('takes --issuer FILE for a leaf-only certificate file, as fetch-ocsp-response does', async () => {
    const site = await writeSite('leaf-only', { layout: 'leaf' });
    const result = await runOcspResponse(['--state-dir', stateDir, '--issuer', fx.intermediateFile, site.certFile]);
    expectStatus(result, 0);
    expect(result.stdout.toString('base64')).toBe((await readFile(`${site.certFile}.ocsp`)).toString('base64'));
  });

  it('with --config naming certs and out, uses the daemon\'s mirrored staple path (one staple for both)', async () => {
    const certsRoot = await fx.makeDir('tree');
    const outDir = await fx.makeDir('tree-out');
    const site = await writeSite('deep', { dir: await fx.makeDir('tree/live/deep') });
    const configFile = path.join(fx.root, 'staplerd.yaml');
    await writeFile(configFile, `certs:\n  - ${certsRoot}\nout: ${outDir}\nstateDir: ${stateDir}\n`);

    const result = await runOcspResponse(['--config', configFile, site.certFile]);

    expectStatus(result, 0);
    const mirrored = path.join(outDir, 'live', 'deep', 'deep.pem.ocsp');
    expect(result.stdout.toString('base64')).toBe((await readFile(mirrored)).toString('base64'));
    // `staplerd once` over the whole tree finds that staple fresh: the two agree on one file.
    const requestsBefore = fx.responder.requestCount;
    const once = await fx.once(['--config', configFile]);
    expect({ code: once.code, stderr: once.code === 0 ? '' : once.stderr }).toEqual({ code: 0, stderr: '' });
    expect(fx.responder.requestCount).toBe(requestsBefore);
  });

  it('exits 2 without a certificate argument (usage), never 0 or 75', async () => {
    const result = await runOcspResponse(['--state-dir', stateDir]);
    expectStatus(result, 2);
    expect(result.stdout.length).toBe(0);
  });
});
