// --on-revoked through the built binary: runs for a revoked certificate, with either --revoked-action.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createE2eFixture, exists, verifyWithOpenssl, type E2eFixture } from '../e2e/e2e-fixture.js';
import { expectExit, jsonEvents } from '../servers/server-fixture.js';
import { createHookRecorder } from './hook-recorder.js';

let fx: E2eFixture;
let hooksDir: string;

beforeAll(async () => {
  fx = await createE2eFixture();
  hooksDir = await fx.makeDir('hooks');
});

afterAll(async () => {
  await fx?.close();
});

/** A certs dir with a revoked leaf and a good one; returns their files. */
async function revokedAndGood(name: string) {
  const certsDir = await fx.makeDir(name);
  const revoked = await fx.issueLeaf({ commonName: `revoked.${name}.test` });
  const good = await fx.issueLeaf({ commonName: `good.${name}.test` });
  const revokedFile = (await fx.pki.writeLeaf(certsDir, revoked, 'fullchain', 'revoked')).certFile;
  const goodFile = (await fx.pki.writeLeaf(certsDir, good, 'fullchain', 'good')).certFile;
  return { certsDir, revoked, revokedFile, goodFile, revokedPem: await fx.writeReferencePem(revoked) };
}

function revoke(serialHex: string): void {
  fx.responder.setStatus(serialHex, { status: 'revoked', revocationTime: new Date(Date.now() - 3_600_000), reason: 1 });
}

it('runs --on-revoked for the revoked certificate only, with STAPLERD_REVOKED naming its file (exit 1)', async () => {
  const { certsDir, revoked, revokedFile, revokedPem } = await revokedAndGood('staple');
  revoke(revoked.certificate.summary.serialHex);
  const recorder = await createHookRecorder(hooksDir, 'revoked-staple');

  const result = await fx.once(['--certs', certsDir, '--log-format', 'json', '--on-revoked', recorder.command()]);

  expectExit(result, 1);
  const runs = await recorder.runs();
  expect(runs.map((run) => ({ event: run.event, revoked: run.revoked, serials: run.revokedSerials }))).toEqual([
    { event: 'revoked', revoked: revokedFile, serials: revoked.certificate.summary.serialHex },
  ]);
  expect(jsonEvents(result).filter((e) => e.event === 'hook.revoked').length).toBe(1);
  // --revoked-action staple (the default): the revoked answer is the staple now, as servers should send it.
  const verdict = await verifyWithOpenssl(`${revokedFile}.ocsp`, revokedPem, fx);
  expect({ verified: verdict.verified, status: verdict.status }).toEqual({ verified: true, status: 'revoked' });
});

it('runs --on-revoked when a good staple is removed with --revoked-action remove', async () => {
  const { certsDir, revoked, revokedFile, goodFile } = await revokedAndGood('remove');
  const recorder = await createHookRecorder(hooksDir, 'revoked-remove');
  expectExit(await fx.once(['--certs', certsDir, '--on-revoked', recorder.command()]), 0);
  expect(await recorder.runs()).toEqual([]);
  revoke(revoked.certificate.summary.serialHex);

  const result = await fx.once(['--certs', certsDir, '--force', '--revoked-action', 'remove', '--on-revoked', recorder.command()]);

  expectExit(result, 1);
  expect((await recorder.runs()).map((run) => run.revoked)).toEqual([revokedFile]);
  expect(await exists(`${revokedFile}.ocsp`)).toBe(false);
  expect(await exists(`${goodFile}.ocsp`)).toBe(true);
});
