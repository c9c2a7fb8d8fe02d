// Exim 4.96 (GnuTLS) stapling what the built staplerd wrote, through tls_ocsp_file, over SMTP STARTTLS.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createE2eFixture, type E2eFixture } from '../e2e/e2e-fixture.js';
import { describeWithServer, opensslSmtpStatus, probeSmtpStaple, startExim, stopAllServers, waitForSmtpStaple, type RunningExim } from '../helpers/servers.js';
import { expectExit, expectStapledFile, jsonEvents, RESPONDER_STEP_MS } from './server-fixture.js';

describeWithServer('exim', 'Exim with tls_ocsp_file', () => {
  let fx: E2eFixture;
  let certsDir: string;
  let certFile: string;
  let keyFile: string;
  let stapleFile: string;
  let leafPem: string;
  let exim: RunningExim | undefined;
  const once = (...extra: string[]) => fx.once(['--certs', certsDir, ...extra]);

  beforeAll(async () => {
    fx = await createE2eFixture();
    certsDir = await fx.makeDir('certs');
    const leaf = await fx.issueLeaf({ commonName: 'mail.test' });
    certFile = (await fx.pki.writeLeaf(certsDir, leaf, 'fullchain', 'mail')).certFile;
    keyFile = path.join(certsDir, 'mail.key');
    stapleFile = `${certFile}.ocsp`;
    leafPem = await fx.writeReferencePem(leaf);
  });

  afterAll(async () => {
    await exim?.stop();
    await stopAllServers();
    await fx?.close();
  });

  it('staples exactly the staple file after STARTTLS, which openssl reads as good', async () => {
    expectExit(await once(), 0);

    exim = await startExim(await fx.makeDir('exim'), { certificate: certFile, privateKey: keyFile, ocspFile: stapleFile });

    const stapled = await waitForSmtpStaple(exim.port, (staple) => staple !== undefined, 'any staple');
    await expectStapledFile(fx, stapled, stapleFile, leafPem);
    const status = await opensslSmtpStatus(exim.port);
    expect(status).toMatch(/OCSP Response Status: successful/);
    expect(status).toMatch(/Cert Status: good/);
  });

  it('staples a refreshed staple file on later connections without a signal', async () => {
    const before = await readFile(stapleFile);
    fx.advanceResponderClock(RESPONDER_STEP_MS);
    expectExit(await once('--force'), 0);
    const after = await readFile(stapleFile);
    expect(after.equals(before)).toBe(false);

    const stapled = await waitForSmtpStaple(exim!.port, (staple) => staple?.equals(after) === true, 'the refreshed staple', 100);
    await expectStapledFile(fx, stapled, stapleFile, leafPem);
    expect(exim!.isRunning).toBe(true);
  }, 60_000);

  it('staples the refreshed staple when --on-update sends SIGHUP', async () => {
    fx.advanceResponderClock(RESPONDER_STEP_MS);

    const result = await once('--force', '--on-update', exim!.reloadCommand.join(' '), '--log-format', 'json');

    expectExit(result, 0);
    expect(jsonEvents(result).filter((e) => e.event === 'hook.update').length).toBe(1);
    const after = await readFile(stapleFile);
    const stapled = await waitForSmtpStaple(exim!.port, (staple) => staple?.equals(after) === true, 'the refreshed staple');
    await expectStapledFile(fx, stapled, stapleFile, leafPem);
  });

  it('fails STARTTLS altogether once tls_ocsp_file is gone, and recovers once staplerd writes it again', async () => {
    await rm(stapleFile);

    // The directory changed, so the daemon drops its cached credentials; GnuTLS then cannot load the named file,
    // and Exim aborts the TLS session (and logs why) instead of going on without a staple.
    const error = await waitUntilRejected(() => probeSmtpStaple(exim!.port));
    expect(error.message).not.toMatch(/ECONNREFUSED/);
    await waitForLog(exim!, /gnutls_certificate_set_ocsp_status_request_file2?\): Error while reading file/);
    expect(exim!.isRunning).toBe(true);

    expectExit(await once(), 0);
    const stapled = await waitForSmtpStaple(exim!.port, (staple) => staple !== undefined, 'the new staple', 100);
    await expectStapledFile(fx, stapled, stapleFile, leafPem);
  }, 60_000);
});

/** Polls Exim's logs (written by the forked connection process) until `pattern` shows up, bounded. */
async function waitForLog(exim: RunningExim, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 50; i += 1) {
    if (pattern.test(await exim.logs())) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await exim.logs()).toMatch(pattern);
}

/**
 * The first error `attempt` throws within 150 tries (100 ms apart, so well over the few seconds the daemon takes to
 * notice the changed directory).
 */
async function waitUntilRejected(attempt: () => Promise<unknown>): Promise<Error> {
  for (let i = 0; i < 150; i += 1) {
    try {
      await attempt();
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('every attempt succeeded');
}

describeWithServer('exim', 'Exim with tls_ocsp_file guarded by ${if exists}', () => {
  let fx: E2eFixture;
  let certsDir: string;
  let certFile: string;
  let stapleFile: string;
  let leafPem: string;
  let exim: RunningExim | undefined;

  beforeAll(async () => {
    fx = await createE2eFixture();
    certsDir = await fx.makeDir('certs');
    const leaf = await fx.issueLeaf({ commonName: 'mail.test' });
    certFile = (await fx.pki.writeLeaf(certsDir, leaf, 'fullchain', 'mail')).certFile;
    stapleFile = `${certFile}.ocsp`;
    leafPem = await fx.writeReferencePem(leaf);
  });

  afterAll(async () => {
    await exim?.stop();
    await stopAllServers();
    await fx?.close();
  });

  it('offers STARTTLS without a staple while the file is missing, and staples it as soon as staplerd writes it', async () => {
    // An empty expansion leaves OCSP off for that connection (Exim spec, tls_ocsp_file); a setting with an expansion
    // is not cached by the daemon, so each connection reads the file (spec 43.9).
    const ocspSetting = `\${if exists{${stapleFile}}{${stapleFile}}}`;
    exim = await startExim(await fx.makeDir('exim'), { certificate: certFile, privateKey: path.join(certsDir, 'mail.key'), ocspFile: stapleFile, ocspSetting });

    expect((await probeSmtpStaple(exim.port)).staple).toBeUndefined();

    expectExit(await fx.once(['--certs', certsDir]), 0);
    const stapled = await waitForSmtpStaple(exim.port, (staple) => staple !== undefined, 'the new staple');
    await expectStapledFile(fx, stapled, stapleFile, leafPem);
  });
});
