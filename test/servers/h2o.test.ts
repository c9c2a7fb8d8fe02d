// H2O 2.2 stapling what staplerd-ocsp-response prints, run by H2O itself as its ocsp-update-cmd (through a wrapper).
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createE2eFixture, exists, waitFor, type E2eFixture } from '../e2e/e2e-fixture.js';
import { PROJECT_ROOT } from '../helpers/run-cli.js';
import { describeWithServer, opensslStatus, probeStaple, startH2o, stopAllServers, waitForStaple, type RunningH2o } from '../helpers/servers.js';
import { expectStapledFile } from './server-fixture.js';

/** H2O staples only once the command (a node start and a pass) has finished: allow 15 s of 100 ms handshakes. */
const STAPLE_ATTEMPTS = 150;
const OCSP_RESPONSE_BIN = path.join(PROJECT_ROOT, 'dist', 'cli', 'ocsp-response-main.js');

/** The first attempt runs at start, possibly before H2O sends stderr to its error log: both together. */
async function readLog(h2o: RunningH2o): Promise<string> {
  return `${h2o.output()}${await h2o.errorLog()}`;
}

describeWithServer('h2o', 'h2o with ocsp-update-cmd running staplerd-ocsp-response', () => {
  let fx: E2eFixture;
  let wrapper: string;
  const servers: RunningH2o[] = [];

  /** A site (leaf + chain, key) in its own directory. */
  async function writeSite(name: string) {
    const dir = await fx.makeDir(`certs-${name}`);
    const leaf = await fx.issueLeaf({ commonName: `${name}.test` });
    const written = await fx.pki.writeLeaf(dir, leaf, 'fullchain', name);
    return { certFile: written.certFile, keyFile: path.join(dir, `${name}.key`), leafPem: await fx.writeReferencePem(leaf) };
  }

  async function startFor(site: { certFile: string; keyFile: string }, name: string): Promise<RunningH2o> {
    const h2o = await startH2o(await fx.makeDir(`h2o-${name}`), { certFile: site.certFile, keyFile: site.keyFile, ocspUpdateCmd: wrapper });
    servers.push(h2o);
    return h2o;
  }

  beforeAll(async () => {
    fx = await createE2eFixture();
    const stateDir = await fx.makeDir('state');
    // H2O runs ocsp-update-cmd as one executable with the certificate file as its only argument (h2o 2.2
    // src/main.c get_ocsp_response: argv = {cmd, cert_fn}): options need a wrapper, as docs/h2o.md shows.
    wrapper = path.join(fx.root, 'staplerd-ocsp-response-h2o');
    const pathEnv = `${path.dirname(process.execPath)}:/usr/bin:/bin`;
    await writeFile(wrapper, `#!/bin/sh\nPATH=${JSON.stringify(pathEnv)}\nexec ${JSON.stringify(OCSP_RESPONSE_BIN)} --state-dir ${JSON.stringify(stateDir)} "$@"\n`);
    await chmod(wrapper, 0o755);
  });

  afterAll(async () => {
    for (const server of servers) await server.stop();
    await stopAllServers();
    await fx?.close();
  });

  it('staples the response staplerd fetched, validated and wrote, which openssl reads as good', async () => {
    const site = await writeSite('site');
    const h2o = await startFor(site, 'first');

    // H2O runs the command in its OCSP updater thread right after start; the first handshakes may come before it.
    const stapled = await waitForStaple(h2o.port, (staple) => staple !== undefined, 'any staple', STAPLE_ATTEMPTS);

    await expectStapledFile(fx, stapled, `${site.certFile}.ocsp`, site.leafPem);
    const status = await opensslStatus(h2o.port);
    expect(status).toMatch(/OCSP Response Status: successful/);
    expect(status).toMatch(/Cert Status: good/);
    // H2O logs the update right after installing the staple: wait for the line rather than race it.
    await waitFor(async () => /\[OCSP Stapling\] successfully updated the response for certificate file:/.test(await readLog(h2o)), 'H2O to log the update');
  });

  it('a second H2O for the same certificate staples the kept staple: the responder sees no new request', async () => {
    const site = await writeSite('shared');
    const first = await startFor(site, 'shared-1');
    await waitForStaple(first.port, (staple) => staple !== undefined, 'any staple', STAPLE_ATTEMPTS);
    const kept = await readFile(`${site.certFile}.ocsp`);
    const requestsBefore = fx.responder.requestCount;

    const second = await startFor(site, 'shared-2');
    const stapled = await waitForStaple(second.port, (staple) => staple?.equals(kept) === true, 'the kept staple', STAPLE_ATTEMPTS);

    await expectStapledFile(fx, stapled, `${site.certFile}.ocsp`, site.leafPem);
    expect(fx.responder.requestCount).toBe(requestsBefore);
  });

  it('(why the wrapper exists) H2O does not split ocsp-update-cmd: options in it disable stapling', async () => {
    const site = await writeSite('unsplit');
    const h2o = await startH2o(await fx.makeDir('h2o-unsplit'), {
      certFile: site.certFile,
      keyFile: site.keyFile,
      ocspUpdateCmd: `${OCSP_RESPONSE_BIN} --state-dir ${path.join(fx.root, 'state')}`,
    });
    servers.push(h2o);
    await waitFor(async () => /\[OCSP Stapling\] disabled for certificate file/.test(await readLog(h2o)), 'H2O to disable stapling');
    expect(await readLog(h2o)).toMatch(/failed to execute .*ocsp-response-main\.js --state-dir .*No such file or directory/);
    expect((await probeStaple(h2o.port)).staple).toBeUndefined();
  });

  it('staples nothing, and logs a temporary error (exit 75), while the responder fails', async () => {
    const site = await writeSite('down');
    fx.responder.setFault('http-500');
    try {
      const h2o = await startFor(site, 'down');
      await waitFor(async () => /reusing old response due to a temporary error/.test(await readLog(h2o)), 'H2O to log the temporary failure');
      expect((await probeStaple(h2o.port)).staple).toBeUndefined();
      expect(await readLog(h2o)).not.toMatch(/\[OCSP Stapling\] disabled for certificate file/);
      expect(await exists(`${site.certFile}.ocsp`)).toBe(false);
    } finally {
      fx.responder.setFault('none');
    }
  });
});
