// examples/pyopenssl_server.py (Debian's python3 + python3-openssl) stapling the file the built staplerd keeps fresh.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createE2eFixture, type E2eFixture } from '../e2e/e2e-fixture.js';
import { describeWithServer, opensslStatus, startPyopensslServer, stopAllServers, waitForStaple, type RunningPythonServer } from '../helpers/servers.js';
import { expectExit, expectStapledFile, RESPONDER_STEP_MS } from './server-fixture.js';

describeWithServer('pyopenssl', 'pyOpenSSL example server', () => {
  let fx: E2eFixture;
  let certsDir: string;
  let stapleFile: string;
  let leafPem: string;
  let server: RunningPythonServer;

  beforeAll(async () => {
    fx = await createE2eFixture();
    certsDir = await fx.makeDir('certs');
    const leaf = await fx.issueLeaf({ commonName: 'py.test' });
    const { certFile } = await fx.pki.writeLeaf(certsDir, leaf, 'fullchain', 'py');
    stapleFile = `${certFile}.ocsp`;
    leafPem = await fx.writeReferencePem(leaf);
    expectExit(await fx.once(['--certs', certsDir]), 0);
    server = await startPyopensslServer({ cert: certFile, key: path.join(certsDir, 'py.key'), staple: stapleFile });
  });

  afterAll(async () => {
    await server?.stop();
    await stopAllServers();
    await fx?.close();
  });

  it('staples exactly the staple file, which openssl reads as good', async () => {
    const stapled = await waitForStaple(server.port, (staple) => staple !== undefined, 'any staple', 10);

    await expectStapledFile(fx, stapled, stapleFile, leafPem);
    expect(await opensslStatus(server.port)).toMatch(/Cert Status: good/);
  });

  it('staples the refreshed file on the next handshake, without a restart', async () => {
    const before = await readFile(stapleFile);
    fx.advanceResponderClock(RESPONDER_STEP_MS);
    expectExit(await fx.once(['--certs', certsDir, '--force']), 0);
    const after = await readFile(stapleFile);
    expect(after.equals(before)).toBe(false);

    const stapled = await waitForStaple(server.port, (staple) => staple?.equals(after) === true, 'the refreshed staple', 10);
    await expectStapledFile(fx, stapled, stapleFile, leafPem);
  });

  it('staples nothing once the staple file is gone', async () => {
    await rm(stapleFile);

    await expect(waitForStaple(server.port, (staple) => staple === undefined, 'no staple', 10)).resolves.toBeUndefined();
  });
});
