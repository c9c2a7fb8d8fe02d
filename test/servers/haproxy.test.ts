// HAProxy 2.6 stapling what the built staplerd wrote: `<crt>.ocsp` at start, runtime pushes, `<crt>.issuer` files.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportPrivateKeyPem } from '../../src/demo/key-pair.js';
import { createE2eFixture, exists, verifyWithOpenssl, type E2eFixture } from '../e2e/e2e-fixture.js';
import { checkHaproxyConfig, describeWithServer, probeStaple, startHaproxy, stopAllServers, waitForStaple, type RunningHaproxy } from '../helpers/servers.js';
import { expectExit, expectStapledFile, jsonEvents, RESPONDER_STEP_MS } from './server-fixture.js';

describeWithServer('haproxy', 'HAProxy with staples from staplerd', () => {
  let fx: E2eFixture;

  beforeAll(async () => {
    fx = await createE2eFixture();
  });

  afterAll(async () => {
    await stopAllServers();
    await fx?.close();
  });

  describe('combined PEM (key, leaf, chain)', () => {
    let certsDir: string;
    let certFile: string;
    let stapleFile: string;
    let leafPem: string;
    let leafSerialHex: string;
    let haproxy: RunningHaproxy;

    beforeAll(async () => {
      certsDir = await fx.makeDir('combined');
      const leaf = await fx.issueLeaf({ commonName: 'shop.test' });
      leafSerialHex = leaf.certificate.summary.serialHex;
      certFile = (await fx.pki.writeLeaf(certsDir, leaf, 'haproxy', 'shop')).certFile;
      stapleFile = `${certFile}.ocsp`;
      leafPem = await fx.writeReferencePem(leaf);
    });

    afterAll(async () => {
      await haproxy?.stop();
    });

    it('loads <crt>.ocsp at start and staples exactly its bytes, which openssl reads as good', async () => {
      expectExit(await fx.once(['--certs', certsDir]), 0);

      haproxy = await startHaproxy(await fx.makeDir('haproxy-combined'), certFile);
      const stapled = await waitForStaple(haproxy.port, (staple) => staple !== undefined, 'any staple');

      await expectStapledFile(fx, stapled, stapleFile, leafPem);
    });

    it('staples a newer staple pushed through the runtime API, without a restart', async () => {
      const before = await readFile(stapleFile);
      fx.advanceResponderClock(RESPONDER_STEP_MS);

      const result = await fx.once(['--certs', certsDir, '--force', '--haproxy-socket', haproxy.socketPath, '--log-format', 'json']);

      expectExit(result, 0);
      expect(jsonEvents(result).filter((e) => e.event === 'haproxy.pushed').map((e) => e.staple)).toEqual([stapleFile]);
      const after = await readFile(stapleFile);
      expect(after.equals(before)).toBe(false);
      const stapled = await waitForStaple(haproxy.port, (staple) => staple?.equals(after) === true, 'the pushed staple', 10);
      await expectStapledFile(fx, stapled, stapleFile, leafPem);
      // The same process: HAProxy took the staple in memory, it was not restarted.
      expect(haproxy.isRunning).toBe(true);
    });

    it('takes a pushed staple through a TCP runtime socket given as host:port', async () => {
      fx.advanceResponderClock(RESPONDER_STEP_MS);

      const result = await fx.once(['--certs', certsDir, '--force', '--haproxy-socket', haproxy.socketAddress, '--log-format', 'json']);

      expectExit(result, 0);
      expect(jsonEvents(result).filter((e) => e.event === 'haproxy.pushed').map((e) => e.socket)).toEqual([haproxy.socketAddress]);
      const after = await readFile(stapleFile);
      const stapled = await waitForStaple(haproxy.port, (staple) => staple?.equals(after) === true, 'the pushed staple', 10);
      await expectStapledFile(fx, stapled, stapleFile, leafPem);
    });

    it('logs HAPROXY_PUSH_FAILED when the socket does not exist, still writes the staple and exits 0', async () => {
      const before = await readFile(stapleFile);
      fx.advanceResponderClock(RESPONDER_STEP_MS);
      const missingSocket = path.join(fx.root, 'no-such-dir', 'admin.sock');

      const result = await fx.once(['--certs', certsDir, '--force', '--haproxy-socket', missingSocket, '--log-format', 'json']);

      expectExit(result, 0);
      const failures = jsonEvents(result).filter((e) => e.event === 'haproxy.push_failed');
      expect(failures.map((e) => ({ code: e.code, staple: e.staple, socket: e.socket }))).toEqual([{ code: 'HAPROXY_PUSH_FAILED', staple: stapleFile, socket: missingSocket }]);
      const after = await readFile(stapleFile);
      expect(after.equals(before)).toBe(false);
      const verdict = await verifyWithOpenssl(stapleFile, leafPem, fx);
      expect({ verified: verdict.verified, status: verdict.status }).toEqual({ verified: true, status: 'good' });
      // Nothing reached HAProxy: it still staples what the previous push gave it.
      expect((await probeStaple(haproxy.port)).staple?.toString('base64')).toBe(before.toString('base64'));
    });

    it('delivers a push that failed at the next once, though the staple is unchanged and nothing is fetched', async () => {
      const stateDir = await fx.makeDir('push-state');
      fx.advanceResponderClock(RESPONDER_STEP_MS);
      const unreachable = path.join(fx.root, 'no-such-dir', 'admin.sock');
      const failed = await fx.once(['--certs', certsDir, '--force', '--haproxy-socket', unreachable, '--state-dir', stateDir, '--log-format', 'json']);
      expectExit(failed, 0);
      expect(jsonEvents(failed).filter((e) => e.event === 'haproxy.push_failed').map((e) => e.staple)).toEqual([stapleFile]);
      const written = await readFile(stapleFile);
      const requestsBefore = fx.responder.requestCount;

      const retried = await fx.once(['--certs', certsDir, '--haproxy-socket', haproxy.socketPath, '--state-dir', stateDir, '--log-format', 'json']);

      expectExit(retried, 0);
      expect(fx.responder.requestCount).toBe(requestsBefore);
      expect(jsonEvents(retried).filter((e) => e.event === 'haproxy.pushed').map((e) => e.staple)).toEqual([stapleFile]);
      const stapled = await waitForStaple(haproxy.port, (staple) => staple?.equals(written) === true, 'the owed staple', 10);
      await expectStapledFile(fx, stapled, stapleFile, leafPem);
      // Delivered means no longer owed: a third run pushes nothing.
      const third = await fx.once(['--certs', certsDir, '--haproxy-socket', haproxy.socketPath, '--state-dir', stateDir, '--log-format', 'json']);
      expect(jsonEvents(third).filter((e) => String(e.event).startsWith('haproxy.'))).toEqual([]);
    });

    it('staples the revoked answer pushed for a revoked certificate (servers send the truth)', async () => {
      fx.responder.setStatus(leafSerialHex, { status: 'revoked', revocationTime: new Date(Date.now() - 3_600_000), reason: 1 });
      fx.advanceResponderClock(RESPONDER_STEP_MS);

      const result = await fx.once(['--certs', certsDir, '--force', '--haproxy-socket', haproxy.socketPath, '--log-format', 'json']);

      expectExit(result, 1);
      const after = await readFile(stapleFile);
      const stapled = await waitForStaple(haproxy.port, (staple) => staple?.equals(after) === true, 'the revoked staple', 10);
      const received = path.join(fx.root, 'haproxy-revoked.der');
      await writeFile(received, stapled!);
      const verdict = await verifyWithOpenssl(received, leafPem, fx);
      expect({ verified: verdict.verified, status: verdict.status }).toEqual({ verified: true, status: 'revoked' });
    });
  });

  describe('leaf-only PEM whose issuer is in --issuer-dir', () => {
    let certsDir: string;
    let issuerDir: string;
    let certFile: string;
    let stapleFile: string;
    let leafPem: string;

    beforeAll(async () => {
      certsDir = await fx.makeDir('leaf-only');
      issuerDir = await fx.makeDir('issuers');
      await copyFile(fx.intermediateFile, path.join(issuerDir, 'intermediate.pem'));
      const leaf = await fx.issueLeaf({ commonName: 'api.test' });
      // Key and leaf, no chain: HAProxy cannot find the issuer inside the PEM.
      certFile = path.join(certsDir, 'api.pem');
      await writeFile(certFile, (await exportPrivateKeyPem(leaf.keys)) + leaf.certificate.toPem(), { mode: 0o600 });
      stapleFile = `${certFile}.ocsp`;
      leafPem = await fx.writeReferencePem(leaf);
    });

    it('(why .issuer exists) without <crt>.issuer HAProxy refuses to start with the staple beside a leaf-only PEM', async () => {
      expectExit(await fx.once(['--certs', certsDir, '--issuer-dir', issuerDir, '--no-issuer-files']), 0);
      expect(await exists(`${certFile}.issuer`)).toBe(false);

      const check = await checkHaproxyConfig(await fx.makeDir('haproxy-no-issuer'), certFile);

      expect(check.code).not.toBe(0);
      expect(check.output).toMatch(/api\.pem\.ocsp' is present and activates OCSP but it is impossible to compute the OCSP certificate ID/);
    });

    it('writes <crt>.issuer by default beside the certificates, and HAProxy then loads the staple at start', async () => {
      expectExit(await fx.once(['--certs', certsDir, '--issuer-dir', issuerDir]), 0);
      expect(await readFile(`${certFile}.issuer`, 'utf8')).toBe(await readFile(fx.intermediateFile, 'utf8'));

      const haproxy = await startHaproxy(await fx.makeDir('haproxy-issuer'), certFile);
      try {
        const stapled = await waitForStaple(haproxy.port, (staple) => staple !== undefined, 'any staple');
        await expectStapledFile(fx, stapled, stapleFile, leafPem);
      } finally {
        await haproxy.stop();
      }
    });
  });
});
