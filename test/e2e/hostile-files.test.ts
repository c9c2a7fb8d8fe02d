// End to end: FIFOs, device links, oversized files and /proc links among the files staplerd reads never hang or
// crash a pass; each is a per-file error naming the file, and the other certificates are stapled as usual.
// A hang would show as the child killed by runCli's timeout (signal SIGKILL), not as a timing assertion.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { copyFile, lstat, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportPrivateKeyPem } from '../../src/demo/key-pair.js';
import { escapeControlCharacters } from '../../src/log/index.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { createE2eFixture, exists, expectExitCode, linesWith, verifyWithOpenssl, type E2eFixture } from './e2e-fixture.js';

let fx: E2eFixture;
let counter = 0;

beforeAll(async () => {
  fx = await createE2eFixture();
});

afterAll(async () => {
  await fx?.close();
});

interface Case {
  readonly dir: string;
  readonly stateDir: string;
  /** A full-chain certificate beside the hostile file, which must be stapled whatever happens to the other. */
  readonly goodFile: string;
  readonly goodReference: string;
}

async function makeCase(): Promise<Case> {
  counter += 1;
  const dir = await fx.makeDir(`case-${counter}/certs`);
  const good = await fx.issueLeaf({ commonName: `good-${counter}.test` });
  const { certFile } = await fx.pki.writeLeaf(dir, good, 'fullchain', 'good');
  return { dir, stateDir: path.join(fx.root, `case-${counter}`, 'state'), goodFile: certFile, goodReference: await fx.writeReferencePem(good) };
}

function mkfifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

async function once(c: Case, ...args: string[]): Promise<CliResult> {
  const result = await fx.once(['--certs', c.dir, '--state-dir', c.stateDir, ...args]);
  // Killed by runCli's timeout: the pass hung on the hostile file.
  expect({ signal: result.signal, stderr: result.signal ? result.stderr : '' }).toEqual({ signal: null, stderr: '' });
  return result;
}

async function expectGoodStapled(c: Case): Promise<void> {
  expect((await verifyWithOpenssl(`${c.goodFile}.ocsp`, c.goodReference, fx)).status).toBe('good');
}

/** Log lines that name `file` together with `code`. */
function errorsFor(result: CliResult, file: string, code: string): string[] {
  return linesWith(result.stderr, file).filter((line) => line.includes(code));
}

async function isRegularFile(file: string): Promise<boolean> {
  return (await lstat(file)).isFile();
}

describe('once among hostile files', () => {
  it('replaces a FIFO at <cert>.ocsp with a validated staple instead of waiting on it', async () => {
    const c = await makeCase();
    const victim = await fx.issueLeaf({ commonName: 'fifo-staple.test' });
    const { certFile } = await fx.pki.writeLeaf(c.dir, victim, 'fullchain', 'victim');
    mkfifo(`${certFile}.ocsp`);
    const result = await once(c);
    expect(await isRegularFile(`${certFile}.ocsp`)).toBe(true);
    expect((await verifyWithOpenssl(`${certFile}.ocsp`, await fx.writeReferencePem(victim), fx)).status).toBe('good');
    await expectGoodStapled(c);
    expectExitCode(result, 0);
  });

  it('replaces a staple that links to /dev/zero with a validated staple, replacing only the link', async () => {
    const c = await makeCase();
    const victim = await fx.issueLeaf({ commonName: 'zero-staple.test' });
    const { certFile } = await fx.pki.writeLeaf(c.dir, victim, 'fullchain', 'victim');
    await symlink('/dev/zero', `${certFile}.ocsp`);
    const result = await once(c);
    expect(await isRegularFile(`${certFile}.ocsp`)).toBe(true);
    expect((await verifyWithOpenssl(`${certFile}.ocsp`, await fx.writeReferencePem(victim), fx)).status).toBe('good');
    expect((await lstat('/dev/zero')).isCharacterDevice()).toBe(true);
    await expectGoodStapled(c);
    expectExitCode(result, 0);
  });

  it('leaves a FIFO at <crt>.issuer alone, naming it, and staples every certificate', async () => {
    const c = await makeCase();
    const issuerDir = await fx.makeDir(`case-${counter}/issuers`);
    await copyFile(fx.intermediateFile, path.join(issuerDir, 'intermediate.pem'));
    const leaf = await fx.issueLeaf({ commonName: 'fifo-issuer.test' });
    const certFile = path.join(c.dir, 'victim.pem');
    await writeFile(certFile, (await exportPrivateKeyPem(leaf.keys)) + leaf.certificate.toPem(), { mode: 0o600 });
    mkfifo(`${certFile}.issuer`);
    const result = await once(c, '--issuer-dir', issuerDir);
    expect(linesWith(result.stderr, `${certFile}.issuer`).filter((line) => line.includes('not a regular file'))).not.toEqual([]);
    expect((await lstat(`${certFile}.issuer`)).isFIFO()).toBe(true);
    expect(await isRegularFile(`${certFile}.ocsp`)).toBe(true);
    await expectGoodStapled(c);
    // A side file that cannot be written is logged at error but does not fail the pass (as for any issuer_file.failed).
    expectExitCode(result, 0);
  });

  it('leaves a FIFO at the nginx snippet alone, naming it, and staples every certificate', async () => {
    const c = await makeCase();
    const { certFile } = await fx.pki.writeLeaf(c.dir, await fx.issueLeaf({ commonName: 'fifo-snippet.test' }), 'fullchain', 'victim');
    mkfifo(`${certFile}.stapling.conf`);
    const result = await once(c, '--nginx-snippets');
    expect(linesWith(result.stderr, `${certFile}.stapling.conf`).filter((line) => line.includes('not a regular file'))).not.toEqual([]);
    expect((await lstat(`${certFile}.stapling.conf`)).isFIFO()).toBe(true);
    await expectGoodStapled(c);
    expect(await exists(`${c.goodFile}.stapling.conf`)).toBe(true);
    expectExitCode(result, 0);
  });

  it('names a sibling chain.pem that is a FIFO, both as a file and where the issuer was looked for', async () => {
    const c = await makeCase();
    const certbotDir = await fx.makeDir(`case-${counter}/certs/live`);
    const leaf = await fx.issueLeaf({ commonName: 'fifo-chain.test' });
    await writeFile(path.join(certbotDir, 'cert.pem'), leaf.certificate.toPem());
    mkfifo(path.join(certbotDir, 'chain.pem'));
    const result = await once(c);
    const chainFile = path.join(certbotDir, 'chain.pem');
    expect(errorsFor(result, chainFile, 'FILE_NOT_REGULAR')).not.toEqual([]);
    expect(linesWith(result.stderr, 'ISSUER_NOT_FOUND').filter((line) => line.includes(`${chainFile} (refused: FILE_NOT_REGULAR`))).not.toEqual([]);
    await expectGoodStapled(c);
    expectExitCode(result, 1);
  });

  it('names a certificate file that is a FIFO instead of skipping it silently', async () => {
    const c = await makeCase();
    mkfifo(path.join(c.dir, 'pipe.pem'));
    const result = await once(c);
    expect(errorsFor(result, path.join(c.dir, 'pipe.pem'), 'FILE_NOT_REGULAR')).not.toEqual([]);
    await expectGoodStapled(c);
    expectExitCode(result, 1);
  });

  it('refuses a certificate file over --max-cert-file-size without parsing it, saying so', async () => {
    const c = await makeCase();
    const big = path.join(c.dir, 'big.pem');
    await writeFile(big, Buffer.alloc(64 * 1024, 'A'));
    const result = await once(c, '--max-cert-file-size', String(32 * 1024));
    expect(errorsFor(result, big, 'FILE_TOO_LARGE')).not.toEqual([]);
    await expectGoodStapled(c);
    expectExitCode(result, 1);
  });

  it('refuses a file with more certificates than --max-certs-per-file, saying so', async () => {
    const c = await makeCase();
    const leaf = await fx.issueLeaf({ commonName: 'many.test' });
    const intermediate = await readFile(fx.intermediateFile, 'utf8');
    const many = path.join(c.dir, 'many.pem');
    await writeFile(many, leaf.certificate.toPem() + intermediate.repeat(4));
    const result = await once(c, '--max-certs-per-file', '3');
    expect(errorsFor(result, many, 'CERT_LIMIT_EXCEEDED').filter((line) => line.includes('5 certificates'))).not.toEqual([]);
    await expectGoodStapled(c);
    expectExitCode(result, 1);
  });

  it('does not walk into /proc through a symlink in a certificate directory', async () => {
    const c = await makeCase();
    await symlink('/proc', path.join(c.dir, 'proc'));
    const result = await once(c);
    expect(errorsFor(result, path.join(c.dir, 'proc'), 'DIRECTORY_REFUSED')).not.toEqual([]);
    await expectGoodStapled(c);
    expectExitCode(result, 0);
  });

  it('does not write through a symlink planted inside the --out tree', async () => {
    const c = await makeCase();
    const liveDir = await fx.makeDir(`case-${counter}/certs/live`);
    const { certFile } = await fx.pki.writeLeaf(liveDir, await fx.issueLeaf({ commonName: 'out-link.test' }), 'fullchain', 'site');
    const out = await fx.makeDir(`case-${counter}/out`);
    const elsewhere = await fx.makeDir(`case-${counter}/elsewhere`);
    await symlink(elsewhere, path.join(out, 'live'));
    const result = await once(c, '--out', out);
    expect(errorsFor(result, certFile, 'OUTPUT_PATH_UNSAFE').filter((line) => line.includes(path.join(out, 'live')))).not.toEqual([]);
    expect(await exists(path.join(elsewhere, 'site.pem.ocsp'))).toBe(false);
    expect((await verifyWithOpenssl(path.join(out, 'good.pem.ocsp'), c.goodReference, fx)).status).toBe('good');
    expectExitCode(result, 1);
  });

  it('refuses a certificate name that is not UTF-8 the same way on every run, and staples the others', async () => {
    const c = await makeCase();
    const pem = (await fx.issueLeaf({ commonName: 'latin1.test' })).certificate.toPem();
    await writeFile(Buffer.concat([Buffer.from(`${c.dir}/`), Buffer.from('caf\xe9.pem', 'latin1')]), pem);
    const shown = path.join(c.dir, 'caf\\xe9.pem');
    // The log escapes the backslash of that `\xe9` in turn, so a file really named `caf\xe9.pem` cannot look the same.
    for (const run of [await once(c), await once(c)]) {
      expect(errorsFor(run, escapeControlCharacters(shown), 'FILE_NAME_UNSUPPORTED')).not.toEqual([]);
      expectExitCode(run, 1);
    }
    await expectGoodStapled(c);
  });
});

describe('other commands among hostile files', () => {
  it('check refuses a FIFO as its response file with a usage error instead of waiting on it', async () => {
    const dir = await fx.makeDir('check-fifo');
    const fifo = path.join(dir, 'response.der');
    mkfifo(fifo);
    const result = await runCli(['check', fifo, '--issuer', fx.intermediateFile, '--serial', '01'], { env: fx.env });
    expect(result.signal).toBeNull();
    expect(result.stderr + result.stdout).toContain('FILE_NOT_REGULAR');
    expectExitCode(result, 2);
  });

  it('once refuses a configuration file that is a FIFO as CONFIG_INVALID instead of waiting on it', async () => {
    const c = await makeCase();
    const configFile = path.join(path.dirname(c.dir), 'staplerd.yaml');
    mkfifo(configFile);
    const result = await fx.once(['--config', configFile, '--state-dir', c.stateDir]);
    expect(result.signal).toBeNull();
    expect(linesWith(result.stderr + result.stdout, 'CONFIG_INVALID').filter((line) => line.includes('FILE_NOT_REGULAR') || line.includes('not a regular file'))).not.toEqual([]);
    expectExitCode(result, 2);
  });
});

