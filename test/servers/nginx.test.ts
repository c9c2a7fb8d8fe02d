// nginx 1.22 stapling what the built staplerd wrote, through the `<cert>.stapling.conf` include snippet.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createE2eFixture, type E2eFixture } from '../e2e/e2e-fixture.js';
import { describeWithServer, opensslStatus, probeStaple, startNginx, stopAllServers, testNginxConfig, waitForStaple, type RunningNginx } from '../helpers/servers.js';
import { expectExit, expectStapledFile, jsonEvents, RESPONDER_STEP_MS } from './server-fixture.js';

describeWithServer('nginx', 'nginx with the staplerd include snippet', () => {
  let fx: E2eFixture;
  let certsDir: string;
  let prefix: string;
  let certFile: string;
  let keyFile: string;
  let stapleFile: string;
  let snippetFile: string;
  let leafPem: string;
  let nginx: RunningNginx | undefined;

  const serverBody = (): string => `    ssl_certificate ${certFile};\n    ssl_certificate_key ${keyFile};\n    include ${snippetFile};`;
  const once = (...extra: string[]) => fx.once(['--certs', certsDir, '--nginx-snippets', ...extra]);

  beforeAll(async () => {
    fx = await createE2eFixture();
    certsDir = await fx.makeDir('certs');
    prefix = await fx.makeDir('nginx');
    const leaf = await fx.issueLeaf({ commonName: 'site.test' });
    const written = await fx.pki.writeLeaf(certsDir, leaf, 'fullchain', 'site');
    certFile = written.certFile;
    keyFile = path.join(certsDir, 'site.key');
    stapleFile = `${certFile}.ocsp`;
    snippetFile = path.join(certsDir, 'site.pem.stapling.conf');
    leafPem = await fx.writeReferencePem(leaf);
  });

  afterAll(async () => {
    await nginx?.stop();
    await stopAllServers();
    await fx?.close();
  });

  it('starts with the included snippet and staples exactly the staple file, which openssl reads as good', async () => {
    expectExit(await once(), 0);
    const directives = (await readFile(snippetFile, 'utf8')).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(directives).toEqual(['ssl_stapling on;', `ssl_stapling_file ${stapleFile};`]);

    nginx = await startNginx(prefix, serverBody());
    // nginx 1.22 loads ssl_stapling_file at start; retrying covers versions that staple only after a first handshake.
    const stapled = await waitForStaple(nginx.port, (staple) => staple !== undefined, 'any staple');

    await expectStapledFile(fx, stapled, stapleFile, leafPem);
    const status = await opensslStatus(nginx.port);
    expect(status).toMatch(/OCSP Response Status: successful/);
    expect(status).toMatch(/Cert Status: good/);
  });

  it('staples the refreshed staple after `nginx -s reload`, and the old one until then', async () => {
    const before = await readFile(stapleFile);
    fx.advanceResponderClock(RESPONDER_STEP_MS);
    expectExit(await once('--force'), 0);
    const after = await readFile(stapleFile);
    expect(after.equals(before)).toBe(false);

    // nginx read the file once, at start: the new bytes reach clients only through a reload.
    expect((await probeStaple(nginx!.port)).staple?.toString('base64')).toBe(before.toString('base64'));

    expect((await nginx!.reload()).code).toBe(0);
    // Old workers finish their connections after a reload; new ones answer with the new configuration.
    const stapled = await waitForStaple(nginx!.port, (staple) => staple?.equals(after) === true, 'the refreshed staple');
    await expectStapledFile(fx, stapled, stapleFile, leafPem);
  });

  it('staples the refreshed staple when --on-update runs the reload (the documented recipe)', async () => {
    fx.advanceResponderClock(RESPONDER_STEP_MS);

    const result = await once('--force', '--on-update', nginx!.reloadCommand.join(' '), '--log-format', 'json');

    expectExit(result, 0);
    expect(jsonEvents(result).filter((e) => e.event === 'hook.update').length).toBe(1);
    const after = await readFile(stapleFile);
    const stapled = await waitForStaple(nginx!.port, (staple) => staple?.equals(after) === true, 'the refreshed staple');
    await expectStapledFile(fx, stapled, stapleFile, leafPem);
  });

  it('reloads cleanly and stops stapling when no valid staple exists (staple gone, responder down)', async () => {
    await rm(stapleFile);
    fx.responder.setFault('http-500');
    try {
      expectExit(await once(), 1);
    } finally {
      fx.responder.setFault('none');
    }
    const snippet = await readFile(snippetFile, 'utf8');
    expect(snippet.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'))).toEqual([]);

    const check = await nginx!.testConfig();
    expect({ code: check.code, output: check.output }).toEqual({ code: 0, output: expect.stringMatching(/test is successful/) });
    expect((await nginx!.reload()).code).toBe(0);
    await waitForStaple(nginx!.port, (staple) => staple === undefined, 'no staple');
    expect(await nginx!.errorLog()).not.toMatch(/\[emerg\]/);
  });

  it('quotes a staple path with a space, a quote and a $ so that nginx loads the right file', async () => {
    // ssl_certificate expands variables, so the odd characters go in the --out tree (staple and snippet) only.
    const plainDir = await fx.makeDir('plain');
    const outDir = await fx.makeDir(`odd dir "quoted" $HOME`);
    const leaf = await fx.issueLeaf({ commonName: 'odd.test' });
    const odd = await fx.pki.writeLeaf(plainDir, leaf, 'fullchain', 'odd');
    expectExit(await fx.once(['--certs', plainDir, '--out', outDir, '--nginx-snippets']), 0);
    const oddSnippet = path.join(outDir, 'odd.pem.stapling.conf');
    expect(await readFile(oddSnippet, 'utf8')).toMatch(/^ssl_stapling_file "/m);

    const body = `    ssl_certificate ${odd.certFile};\n    ssl_certificate_key ${path.join(plainDir, 'odd.key')};\n    include "${oddSnippet.replace(/(["\\])/g, '\\$1')}";`;
    const check = await testNginxConfig(await fx.makeDir('nginx-odd'), body);

    expect({ code: check.code, output: check.output }).toEqual({ code: 0, output: expect.stringMatching(/test is successful/) });
  });

  it('(why the snippet exists) nginx rejects a configuration whose ssl_stapling_file is missing', async () => {
    const body = `    ssl_certificate ${certFile};\n    ssl_certificate_key ${keyFile};\n    ssl_stapling on;\n    ssl_stapling_file ${path.join(certsDir, 'missing.ocsp')};`;
    const check = await testNginxConfig(await fx.makeDir('nginx-missing'), body);
    expect(check.code).not.toBe(0);
    expect(check.output).toMatch(/\[emerg\].*missing\.ocsp/);
  });
});
