// End to end: command-line and configuration-file errors exit 2 naming what is wrong; --config works and flags override it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { closedPortUrl, createE2eFixture, exists, expectExitCode, verifyWithOpenssl, type E2eFixture } from './e2e-fixture.js';

let fx: E2eFixture;
let certsDir: string;

beforeAll(async () => {
  fx = await createE2eFixture();
  certsDir = await fx.makeDir('config/certs');
});

afterAll(async () => {
  await fx?.close();
});

describe('staplerd usage errors', () => {
  it('exits 2 and names an unknown option', async () => {
    const result = await fx.once(['--certs', certsDir, '--frobnicate']);
    expectExitCode(result, 2);
    expect(result.stderr).toContain('--frobnicate');
  });

  it.each([
    ['--timeout', 'soon'],
    ['--concurrency', '0'],
    ['--log-level', 'loud'],
    ['--revoked-action', 'ignore'],
    ['--responder', 'ftp://127.0.0.1/'],
  ])('exits 2 and names %s when its value is bad', async (option, value) => {
    const requestsBefore = fx.responder.requestCount;
    const result = await fx.once(['--certs', certsDir, option, value]);
    expectExitCode(result, 2);
    expect(result.stderr).toContain(option);
    expect(fx.responder.requestCount).toBe(requestsBefore);
  });

  it('exits 2 when no certificate directory is given', async () => {
    const result = await fx.once([]);
    expectExitCode(result, 2);
    expect(result.stderr).toContain('--certs');
  });
});

describe('staplerd --config', () => {
  let configFile: string;
  let certFile: string;
  let leafRef: string;

  beforeAll(async () => {
    const leaf = await fx.issueLeaf({ commonName: 'config.test' });
    certFile = (await fx.pki.writeLeaf(certsDir, leaf, 'fullchain', 'site')).certFile;
    leafRef = await fx.writeReferencePem(leaf);
    configFile = path.join(fx.root, 'config', 'staplerd.yaml');
    // certs is relative to the file's directory; the responder is a dead one the flag will replace.
    await writeFile(configFile, [`certs: [certs]`, `responder: ${await closedPortUrl()}`, `logFormat: json`, `timeout: 2`, ''].join('\n'));
  });

  it('takes its values from the YAML file', async () => {
    const result = await fx.once(['--config', configFile]);

    expectExitCode(result, 1);
    const failed = result.stderr
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((event) => event.event === 'fetch.failed');
    expect(failed).toMatchObject({ file: certFile, code: 'FETCH_NETWORK' });
    expect(await exists(`${certFile}.ocsp`)).toBe(false);
  });

  it('lets command-line flags override the file', async () => {
    // A state dir of its own: the failure above left a backoff for this certificate in the shared one.
    const env = { STATE_DIRECTORY: path.join(fx.root, 'config', 'state') };
    const result = await fx.once(['--config', configFile, '--responder', fx.responder.url, '--log-format', 'text'], env);

    expectExitCode(result, 0);
    expect(result.stderr).toMatch(/^\S+ info +staple\.written: /m);
    expect(result.stderr).not.toMatch(/^\{/m);
    expect((await verifyWithOpenssl(`${certFile}.ocsp`, leafRef, fx)).status).toBe('good');
  });

  it('exits 2 naming the key and the file for an unknown key', async () => {
    const bad = path.join(fx.root, 'config', 'unknown-key.yaml');
    await writeFile(bad, 'certs: [certs]\nfrobnicate: 3\n');
    const result = await fx.once(['--config', bad]);
    expectExitCode(result, 2);
    expect(result.stderr).toContain('frobnicate');
    expect(result.stderr).toContain(bad);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'exits 2 with CONFIG_INVALID for the key %s, so systemd stops restarting instead of looping',
    async (key) => {
      const bad = path.join(fx.root, 'config', `prototype-key-${key}.yaml`);
      await writeFile(bad, `certs: [certs]\n${key}: 1\n`);
      const result = await fx.once(['--config', bad]);
      expectExitCode(result, 2);
      expect(result.stderr).toContain(`CONFIG_INVALID: unknown configuration key "${key}"`);
      expect(result.stderr).toContain(bad);
    },
  );

  it('exits 2 showing a non-finite number as written in the file', async () => {
    const bad = path.join(fx.root, 'config', 'infinite.yaml');
    await writeFile(bad, 'certs: [certs]\nconcurrency: 1e400\n');
    const result = await fx.once(['--config', bad]);
    expectExitCode(result, 2);
    expect(result.stderr).toContain('(got 1e400)');
  });

  it('exits 2 naming the key and the file for a bad value', async () => {
    const bad = path.join(fx.root, 'config', 'bad-value.yaml');
    await writeFile(bad, 'certs: [certs]\ntimeout: soon\n');
    const result = await fx.once(['--config', bad]);
    expectExitCode(result, 2);
    expect(result.stderr).toMatch(/"timeout"/);
    expect(result.stderr).toContain(bad);
  });

  it('exits 2 naming the file when it is not valid YAML', async () => {
    const bad = path.join(fx.root, 'config', 'broken.yaml');
    await writeFile(bad, 'certs: [certs\n');
    const result = await fx.once(['--config', bad]);
    expectExitCode(result, 2);
    expect(result.stderr).toContain(bad);
  });

  it('removes the staple of a revoked certificate with onRevoked: remove in the file', async () => {
    const dir = await fx.makeDir('config-revoked/certs');
    const leaf = await fx.issueLeaf({ commonName: 'config-revoked.test' });
    const file = (await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'site')).certFile;
    const yaml = path.join(fx.root, 'config-revoked', 'staplerd.yaml');
    await writeFile(yaml, 'certs: certs\nonRevoked: remove\n');
    expectExitCode(await fx.once(['--config', yaml]), 0);
    expect(await exists(`${file}.ocsp`)).toBe(true);

    fx.responder.setStatus(leaf.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(Date.now() - 60_000) });
    const result = await fx.once(['--config', yaml, '--force']);

    expectExitCode(result, 1);
    expect(await exists(`${file}.ocsp`)).toBe(false);
  });
});
