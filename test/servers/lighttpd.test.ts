// lighttpd 1.4.69 (mod_openssl) stapling what the built staplerd wrote, through `ssl.stapling-file`.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createE2eFixture, type E2eFixture } from '../e2e/e2e-fixture.js';
import { describeWithServer, opensslStatus, probeStaple, startLighttpd, stopAllServers, waitForStaple, type RunningLighttpd } from '../helpers/servers.js';
import { expectExit, expectStapledFile, jsonEvents, RESPONDER_STEP_MS } from './server-fixture.js';

/**
 * lighttpd's mod_openssl looks at ssl.stapling-file from a once-a-minute trigger (when the epoch second is a multiple
 * of 64) and re-reads it only when the loaded response's nextUpdate is less than 256 s away and the file's mtime is
 * newer than the load (lighttpd docs, mod_openssl `ssl.stapling-file`; mod_openssl.c mod_openssl_refresh_stapling_file).
 */
const TRIGGER_PERIOD_S = 64;
/** Handshakes 100 ms apart: enough to span one trigger period with room to spare, and still bounded. */
const ONE_TRIGGER_ATTEMPTS = 900;

interface Site {
  certsDir: string;
  certFile: string;
  keyFile: string;
  stapleFile: string;
  leafPem: string;
}

async function makeSite(fx: E2eFixture): Promise<Site> {
  const certsDir = await fx.makeDir('certs');
  const leaf = await fx.issueLeaf({ commonName: 'site.test' });
  const { certFile } = await fx.pki.writeLeaf(certsDir, leaf, 'fullchain', 'site');
  return { certsDir, certFile, keyFile: path.join(certsDir, 'site.key'), stapleFile: `${certFile}.ocsp`, leafPem: await fx.writeReferencePem(leaf) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until lighttpd's next stapling-file check has certainly run (the next multiple of 64 s, plus 2 s). */
async function waitPastNextTrigger(): Promise<void> {
  const nowS = Date.now() / 1000;
  const next = Math.floor(nowS / TRIGGER_PERIOD_S + 1) * TRIGGER_PERIOD_S;
  await sleep((next + 2 - nowS) * 1000);
}

/** lighttpd compares whole-second mtimes with the second it loaded the file: a write must land in a later second. */
function nextSecond(): Promise<void> {
  return sleep(1100);
}

describeWithServer('lighttpd', 'lighttpd with ssl.stapling-file (staples valid for a day)', () => {
  let fx: E2eFixture;
  let site: Site;
  let lighttpd: RunningLighttpd | undefined;
  const once = (...extra: string[]) => fx.once(['--certs', site.certsDir, ...extra]);

  beforeAll(async () => {
    fx = await createE2eFixture();
    site = await makeSite(fx);
  });

  afterAll(async () => {
    await lighttpd?.stop();
    await stopAllServers();
    await fx?.close();
  });

  it('staples exactly the staple file from the start, which openssl reads as good', async () => {
    expectExit(await once(), 0);

    lighttpd = await startLighttpd(await fx.makeDir('lighttpd'), { pemfile: site.certFile, privkey: site.keyFile, staplingFile: site.stapleFile });

    const stapled = await waitForStaple(lighttpd.port, (staple) => staple !== undefined, 'any staple');
    await expectStapledFile(fx, stapled, site.stapleFile, site.leafPem);
    const status = await opensslStatus(lighttpd.port);
    expect(status).toMatch(/OCSP Response Status: successful/);
    expect(status).toMatch(/Cert Status: good/);
  });

  it(
    'keeps the loaded staple past its periodic check while it is far from nextUpdate, and takes the new one on SIGUSR1',
    async () => {
      const before = await readFile(site.stapleFile);
      await nextSecond();
      fx.advanceResponderClock(RESPONDER_STEP_MS);
      expectExit(await once('--force'), 0);
      const after = await readFile(site.stapleFile);
      expect(after.equals(before)).toBe(false);

      // The loaded response has ~24 h left, so the check skips the file: it is still the old staple.
      await waitPastNextTrigger();
      expect((await probeStaple(lighttpd!.port)).staple?.toString('base64')).toBe(before.toString('base64'));

      // A graceful restart re-reads configuration and files (lighttpd docs: SIGUSR1).
      lighttpd!.gracefulRestart();
      const stapled = await waitForStaple(lighttpd!.port, (staple) => staple?.equals(after) === true, 'the refreshed staple');
      await expectStapledFile(fx, stapled, site.stapleFile, site.leafPem);
      expect(lighttpd!.isRunning).toBe(true);
    },
    (TRIGGER_PERIOD_S + 30) * 1000,
  );

  it('staples the refreshed staple at once when --on-update sends SIGUSR1 (the documented recipe)', async () => {
    await nextSecond();
    fx.advanceResponderClock(RESPONDER_STEP_MS);

    const result = await once('--force', '--on-update', lighttpd!.restartCommand.join(' '), '--log-format', 'json');

    expectExit(result, 0);
    expect(jsonEvents(result).filter((e) => e.event === 'hook.update').length).toBe(1);
    const after = await readFile(site.stapleFile);
    const stapled = await waitForStaple(lighttpd!.port, (staple) => staple?.equals(after) === true, 'the refreshed staple');
    await expectStapledFile(fx, stapled, site.stapleFile, site.leafPem);
  });

  it('keeps serving TLS without a staple when the staple file is gone at a restart, and staples again once it is back', async () => {
    await rm(site.stapleFile);
    lighttpd!.gracefulRestart();

    // mod_openssl continues without an OCSP response when the file cannot be loaded: TLS still works.
    await waitForStaple(lighttpd!.port, (staple) => staple === undefined, 'no staple');
    expect(lighttpd!.isRunning).toBe(true);

    expectExit(await once('--on-update', lighttpd!.restartCommand.join(' ')), 0);
    const stapled = await waitForStaple(lighttpd!.port, (staple) => staple !== undefined, 'the new staple');
    await expectStapledFile(fx, stapled, site.stapleFile, site.leafPem);
  });
});

describeWithServer('lighttpd', 'lighttpd with ssl.stapling-file (staples within 256 s of nextUpdate)', () => {
  let fx: E2eFixture;
  let site: Site;
  let lighttpd: RunningLighttpd | undefined;
  // 5 min of validity starting 1 min in the past: the response has 4 min (< 256 s) left, so lighttpd's periodic
  // check looks at the file. --min-remaining 60 lets staplerd accept such a short-lived answer.
  const once = (...extra: string[]) => fx.once(['--certs', site.certsDir, '--min-remaining', '60', ...extra]);

  beforeAll(async () => {
    fx = await createE2eFixture({ responderValidityMs: 5 * 60_000 });
    site = await makeSite(fx);
  });

  afterAll(async () => {
    await lighttpd?.stop();
    await stopAllServers();
    await fx?.close();
  });

  it(
    'picks up a newer staple file by itself, without a signal, at its next periodic check',
    async () => {
      expectExit(await once(), 0);
      lighttpd = await startLighttpd(await fx.makeDir('lighttpd'), { pemfile: site.certFile, privkey: site.keyFile, staplingFile: site.stapleFile });
      const before = await readFile(site.stapleFile);
      await expectStapledFile(fx, await waitForStaple(lighttpd.port, (staple) => staple !== undefined, 'any staple'), site.stapleFile, site.leafPem);

      await nextSecond();
      fx.advanceResponderClock(RESPONDER_STEP_MS);
      expectExit(await once('--force'), 0);
      const after = await readFile(site.stapleFile);
      expect(after.equals(before)).toBe(false);

      const stapled = await waitForStaple(lighttpd.port, (staple) => staple?.equals(after) === true, 'the refreshed staple', ONE_TRIGGER_ATTEMPTS);
      await expectStapledFile(fx, stapled, site.stapleFile, site.leafPem);
    },
    (TRIGGER_PERIOD_S + 60) * 1000,
  );
});
