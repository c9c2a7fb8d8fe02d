// Staples that cannot be written or removed (a really full tmpfs): the valid staple stays, and the failure is visible.
import { afterEach, describe, expect, it } from '@jest/globals';
import { readdir, writeFile } from 'node:fs/promises';
import { buildStatusRows, isPassSuccessful } from '../../src/pass/index.js';
import { signTestResponse } from '../helpers/fake-http.js';
import { describeWithTmpfs, mountSmallTmpfs, type SmallTmpfs } from '../helpers/small-tmpfs.js';
import { makeTempDir } from '../helpers/test-pki.js';
import { DAY_MS, HOUR_MS, readBytes, readStaple, T0, usePassSuite, type LeafScenario, type LeafScenarioOptions } from './pass-fixture.js';

const suite = usePassSuite();
const mounted: SmallTmpfs[] = [];

afterEach(async () => {
  // Unmounted before removeTempDirsAfterAll deletes the temp dirs that hold the mount points.
  for (const tmpfs of mounted.splice(0)) await tmpfs.unmount();
});

/** One leaf (an OCSP URL unless `leaf` says otherwise) whose certificate and staple live on a small tmpfs of its own. */
async function onSmallDisk(leaf: LeafScenarioOptions['leaf'] = {}): Promise<LeafScenario & { tmpfs: SmallTmpfs }> {
  const parent = await makeTempDir();
  suite.dirs.push(parent);
  const tmpfs = await mountSmallTmpfs(parent);
  mounted.push(tmpfs);
  return { ...(await suite.leafScenario({ config: { certs: [tmpfs.dir] }, leaf })), tmpfs };
}

describeWithTmpfs('a staple write failing on a full disk', () => {
  it('keeps the valid staple, reports WRITE_FAILED naming the file, and still counts the certificate as stapled', async () => {
    const { fx, tmpfs, leaf, stapleFile } = await onSmallDisk();
    expect((await fx.passOne()).kind).toBe('written');
    const before = await readBytes(stapleFile);
    await tmpfs.fill();
    fx.clock.advance(13 * HOUR_MS);

    const report = await fx.pass();
    const outcome = report.outcomes[0]!;

    expect(outcome.kind).toBe('failed');
    expect(outcome.code).toBe('WRITE_FAILED');
    expect(outcome.message).toContain(stapleFile);
    // docs/cli.md: a failed refresh whose previous staple is still valid and good counts as good.
    expect(outcome.hasGoodStaple).toBe(true);
    expect(isPassSuccessful(report)).toBe(true);
    expect(await readBytes(stapleFile)).toEqual(before);
    // The outcome describes the staple servers still load, not the response that could not be written.
    const kept = await readStaple(suite.pki, stapleFile, leaf, fx.clock.now());
    expect(outcome.thisUpdate).toEqual(kept?.thisUpdate);
    expect(outcome.nextUpdate).toEqual(kept?.nextUpdate);
    expect((await readdir(tmpfs.dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('records the failed write so status and metrics show it, and retries before the kept staple runs out', async () => {
    const { fx, tmpfs, leaf } = await onSmallDisk();
    await fx.passOne();
    await tmpfs.fill();
    fx.clock.advance(13 * HOUR_MS);

    const report = await fx.pass();

    const key = leaf.certificate.summary.fingerprintSha256;
    const history = fx.history.get(key);
    expect(history?.consecutiveFailures).toBe(1);
    expect(history?.lastErrorCode).toBe('WRITE_FAILED');
    expect(report.outcomes[0]!.nextActionAt).toEqual(history?.nextAttemptAt);
    expect(history!.nextAttemptAt!.getTime()).toBeLessThan(report.outcomes[0]!.nextUpdate!.getTime());
    const [row] = buildStatusRows(report, fx.history, fx.clock.now());
    expect(row?.lastErrorCode).toBe('WRITE_FAILED');
    expect(row?.consecutiveFailures).toBe(1);
    expect(fx.fileFailures).toEqual([{ operation: 'write', code: 'WRITE_FAILED' }]);
    expect(fx.logger.events.some((e) => e.event === 'staple.write_failed' && e.fields.code === 'WRITE_FAILED')).toBe(true);
  });

  it('fails the pass when the disk is full and there is no staple to keep', async () => {
    const { fx, tmpfs, stapleFile } = await onSmallDisk();
    await tmpfs.fill();

    const report = await fx.pass();
    const outcome = report.outcomes[0]!;

    expect(outcome.kind).toBe('failed');
    expect(outcome.code).toBe('WRITE_FAILED');
    expect(outcome.hasGoodStaple).toBe(false);
    expect(outcome.thisUpdate).toBeUndefined();
    expect(isPassSuccessful(report)).toBe(false);
    expect(buildStatusRows(report, fx.history, fx.clock.now())[0]?.state).toBe('failing');
    expect(outcome.files?.[0]).toEqual(expect.objectContaining({ stapleFile, staple: undefined, changed: false }));
  });

  it('waits out the backoff while the disk stays full, counts each failed write, and writes once there is room', async () => {
    const { fx, tmpfs, leaf, stapleFile } = await onSmallDisk();
    await tmpfs.fill();
    await fx.passOne();
    const key = leaf.certificate.summary.fingerprintSha256;
    const firstRetry = fx.history.get(key)!.nextAttemptAt!;

    fx.clock.set(new Date(firstRetry.getTime() - 1000));
    const waiting = await fx.passOne();
    expect(waiting.kind).toBe('backing-off');
    expect(waiting.code).toBe('WRITE_FAILED');

    fx.clock.set(firstRetry);
    expect((await fx.passOne()).code).toBe('WRITE_FAILED');
    expect(fx.history.get(key)?.consecutiveFailures).toBe(2);
    expect(fx.fileFailures).toHaveLength(2);

    await tmpfs.drain();
    fx.clock.set(fx.history.get(key)!.nextAttemptAt!);
    expect((await fx.passOne()).kind).toBe('written');
    expect(fx.history.get(key)?.consecutiveFailures).toBe(0);
    expect(fx.history.get(key)?.lastErrorCode).toBeUndefined();
    expect((await readStaple(suite.pki, stapleFile, leaf, fx.clock.now()))?.certStatus).toBe('good');
  });
});

describeWithTmpfs('a read-only disk', () => {
  it('keeps the valid staple and reports WRITE_FAILED when the refresh cannot be written to a read-only mount', async () => {
    const { fx, tmpfs, stapleFile } = await onSmallDisk();
    await fx.passOne();
    const before = await readBytes(stapleFile);
    tmpfs.setReadOnly(true);
    fx.clock.advance(13 * HOUR_MS);

    const report = await fx.pass();

    expect(report.outcomes[0]).toEqual(expect.objectContaining({ kind: 'failed', code: 'WRITE_FAILED', hasGoodStaple: true }));
    expect(isPassSuccessful(report)).toBe(true);
    expect(await readBytes(stapleFile)).toEqual(before);
    tmpfs.setReadOnly(false);
  });

  it('counts a failed removal as REMOVE_FAILED, names the file, and fails the pass when an expired staple cannot be removed', async () => {
    const { fx, tmpfs, leaf, stapleFile } = await onSmallDisk();
    const expired = { thisUpdate: new Date(T0.getTime() - 2 * DAY_MS), nextUpdate: new Date(T0.getTime() - DAY_MS) };
    await writeFile(stapleFile, await signTestResponse(suite.pki.authority, leaf.certificate, expired));
    tmpfs.setReadOnly(true);
    fx.http.failWith = { statusCode: 500 };

    const report = await fx.pass();
    const outcome = report.outcomes[0]!;

    expect(outcome.kind).toBe('failed');
    expect(outcome.hasGoodStaple).toBe(false);
    expect(outcome.changedFiles).toEqual([]);
    expect(isPassSuccessful(report)).toBe(false);
    expect(fx.fileFailures).toEqual([{ operation: 'remove', code: 'REMOVE_FAILED' }]);
    const event = fx.logger.events.find((e) => e.event === 'staple.remove_failed');
    expect(event?.level).toBe('error');
    expect(event?.fields).toEqual(expect.objectContaining({ code: 'REMOVE_FAILED', staple: stapleFile }));
    expect((await readBytes(stapleFile)).length).toBeGreaterThan(0);
    tmpfs.setReadOnly(false);
  });

  it('reports REMOVE_FAILED, not a write failure, when a revoked certificate\'s staple cannot be removed (onRevoked: remove)', async () => {
    const { fx, tmpfs, leaf, stapleFile } = await onSmallDisk();
    await fx.passOne();
    const before = await readBytes(stapleFile);
    fx.http.setStatus(leaf.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(T0.getTime() - HOUR_MS) });
    tmpfs.setReadOnly(true);

    const outcome = await fx.passOne({ force: true, onRevoked: 'remove' });

    expect(outcome.kind).toBe('revoked');
    expect(fx.fileFailures).toEqual([{ operation: 'remove', code: 'REMOVE_FAILED' }]);
    expect(fx.history.get(leaf.certificate.summary.fingerprintSha256)?.lastErrorCode).toBe('REMOVE_FAILED');
    // The good staple could not be removed, so servers still load it: the outcome must not claim the file is empty.
    expect(outcome.files?.[0]?.staple?.certStatus).toBe('good');
    expect(outcome.changedFiles).toEqual([]);
    expect(await readBytes(stapleFile)).toEqual(before);
    tmpfs.setReadOnly(false);
  });
});

describeWithTmpfs('a stale staple of a certificate without an OCSP URL on a read-only disk', () => {
  it('fails the certificate with REMOVE_FAILED instead of calling it not applicable', async () => {
    const { fx, tmpfs, leaf, stapleFile } = await onSmallDisk({ ocspUrls: [] });
    const expired = { thisUpdate: new Date(T0.getTime() - 2 * DAY_MS), nextUpdate: new Date(T0.getTime() - DAY_MS) };
    await writeFile(stapleFile, await signTestResponse(suite.pki.authority, leaf.certificate, expired));
    tmpfs.setReadOnly(true);

    const report = await fx.pass();
    const outcome = report.outcomes[0]!;

    expect(outcome.kind).toBe('failed');
    expect(outcome.code).toBe('REMOVE_FAILED');
    expect(outcome.message).toContain(stapleFile);
    expect(isPassSuccessful(report)).toBe(false);
    expect(fx.fileFailures).toEqual([{ operation: 'remove', code: 'REMOVE_FAILED' }]);
    tmpfs.setReadOnly(false);
  });
});

describe('an expired staple while backing off', () => {
  it('removes the expired staple without asking the responder before the next attempt is due', async () => {
    const { fx, leaf, stapleFile } = await suite.leafScenario();
    const expired = { thisUpdate: new Date(T0.getTime() - 2 * DAY_MS), nextUpdate: new Date(T0.getTime() - DAY_MS) };
    await writeFile(stapleFile, await signTestResponse(suite.pki.authority, leaf.certificate, expired));
    fx.history.set(leaf.certificate.summary.fingerprintSha256, { consecutiveFailures: 3, nextAttemptAt: new Date(T0.getTime() + HOUR_MS), lastErrorCode: 'FETCH_NETWORK' });

    const outcome = await fx.passOne();

    expect(outcome.kind).toBe('backing-off');
    expect(outcome.changedFiles).toEqual([stapleFile]);
    expect(outcome.hasGoodStaple).toBe(false);
    expect(fx.http.ocspRequestCount).toBe(0);
    expect(await readStaple(suite.pki, stapleFile, leaf, T0)).toBeUndefined();
  });
});
