// Responses without nextUpdate (RFC 6960 4.2.2.1): stapled for a bounded lifetime after thisUpdate, refreshed within it.
import { describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import type { StaplerdConfig } from '../../src/config/index.js';
import { buildStatusRows, isPassSuccessful } from '../../src/pass/index.js';
import { signTestResponse } from '../helpers/fake-http.js';
import { exists } from '../helpers/test-pki.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, readStaple, T0, usePassSuite, type LeafScenario } from './pass-fixture.js';

const suite = usePassSuite();

/** A responder that never sends nextUpdate; its thisUpdate follows the clock (one minute behind, as the fake does). */
async function scenario(config: Partial<StaplerdConfig> = {}, layout: 'fullchain' | 'leaf' = 'fullchain'): Promise<LeafScenario> {
  const sc = await suite.leafScenario({ config, layout });
  sc.fx.http.answerTimes = { nextUpdate: null };
  return sc;
}

const THIS_UPDATE = new Date(T0.getTime() - MINUTE_MS);

describe('a responder that sends no nextUpdate', () => {
  it('gets its response written, counted as a good staple that lasts a day after thisUpdate', async () => {
    const { fx, leaf, stapleFile } = await scenario();

    const report = await fx.pass();
    const outcome = report.outcomes[0]!;

    expect(outcome.kind).toBe('written');
    expect(outcome.hasGoodStaple).toBe(true);
    expect(isPassSuccessful(report)).toBe(true);
    expect(outcome.nextUpdate).toEqual(new Date(THIS_UPDATE.getTime() + DAY_MS));
    const staple = await readStaple(suite.pki, stapleFile, leaf, T0);
    expect(staple?.nextUpdateImplied).toBe(true);
    const [row] = buildStatusRows(report, fx.history, fx.clock.now());
    expect(row?.state).toBe('fresh');
    expect(row?.nextUpdate).toEqual(new Date(THIS_UPDATE.getTime() + DAY_MS));
  });

  it('refreshes halfway through that day, and not before', async () => {
    const { fx } = await scenario();
    const first = await fx.passOne();
    // random() is 0.5 in the fixture: no jitter, exactly half of the one-day lifetime.
    expect(first.nextActionAt).toEqual(new Date(THIS_UPDATE.getTime() + 12 * HOUR_MS));

    fx.clock.set(new Date(THIS_UPDATE.getTime() + 12 * HOUR_MS - 1000));
    expect((await fx.passOne()).kind).toBe('fresh');
    expect(fx.http.ocspRequestCount).toBe(1);

    fx.clock.set(new Date(THIS_UPDATE.getTime() + 12 * HOUR_MS));
    const refreshed = await fx.passOne();
    expect(refreshed.kind).toBe('written');
    expect(fx.http.ocspRequestCount).toBe(2);
    expect(refreshed.thisUpdate).toEqual(new Date(fx.clock.now().getTime() - MINUTE_MS));
  });

  it('follows the configured lifetime instead of a day', async () => {
    const { fx } = await scenario({ lifetimeWithoutNextUpdateMs: 4 * HOUR_MS });
    const outcome = await fx.passOne();
    expect(outcome.nextUpdate).toEqual(new Date(THIS_UPDATE.getTime() + 4 * HOUR_MS));
    expect(outcome.nextActionAt).toEqual(new Date(THIS_UPDATE.getTime() + 2 * HOUR_MS));
  });

  it('refuses such responses with RESPONSE_NO_NEXT_UPDATE when the lifetime is 0', async () => {
    const { fx, stapleFile } = await scenario({ lifetimeWithoutNextUpdateMs: 0 });
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('failed');
    expect(outcome.code).toBe('RESPONSE_NO_NEXT_UPDATE');
    expect(await exists(stapleFile)).toBe(false);
  });

  it('keeps the staple while the responder is down, then removes it once its lifetime has passed', async () => {
    const { fx, stapleFile } = await scenario();
    await fx.passOne();
    fx.http.failWith = { statusCode: 503 };

    fx.clock.set(new Date(THIS_UPDATE.getTime() + 20 * HOUR_MS));
    const kept = await fx.passOne();
    expect(kept.kind).toBe('failed');
    expect(kept.hasGoodStaple).toBe(true);
    expect(await exists(stapleFile)).toBe(true);

    fx.clock.set(new Date(THIS_UPDATE.getTime() + DAY_MS + MINUTE_MS));
    const expired = await fx.passOne({ force: true });
    expect(expired.hasGoodStaple).toBe(false);
    expect(expired.changedFiles).toEqual([stapleFile]);
    expect(await exists(stapleFile)).toBe(false);
    expect(fx.logger.events.some((e) => e.event === 'staple.removed' && e.fields.code === 'RESPONSE_NO_NEXT_UPDATE')).toBe(true);
  });

  it('is replaced by a newer response that carries a nextUpdate', async () => {
    const { fx, leaf, stapleFile } = await scenario();
    await fx.passOne();
    fx.http.answerTimes = undefined;
    fx.clock.advance(13 * HOUR_MS);
    expect((await fx.passOne()).kind).toBe('written');
    const staple = await readStaple(suite.pki, stapleFile, leaf, fx.clock.now());
    expect(staple?.nextUpdateImplied).toBeUndefined();
  });
});

describe('a staple without nextUpdate whose issuer cannot be found', () => {
  it('is left alone within its lifetime', async () => {
    const { fx, leaf, stapleFile } = await scenario({}, 'leaf');
    await writeFile(stapleFile, await signTestResponse(suite.pki.authority, leaf.certificate, { thisUpdate: new Date(T0.getTime() - HOUR_MS), nextUpdate: null }));
    const outcome = await fx.passOne();
    expect(outcome.code).toBe('ISSUER_NOT_FOUND');
    expect(await exists(stapleFile)).toBe(true);
  });

  it('is removed once thisUpdate + its lifetime has passed (a server would staple it forever)', async () => {
    const { fx, leaf, stapleFile } = await scenario({}, 'leaf');
    await writeFile(stapleFile, await signTestResponse(suite.pki.authority, leaf.certificate, { thisUpdate: new Date(T0.getTime() - DAY_MS - MINUTE_MS), nextUpdate: null }));
    const outcome = await fx.passOne();
    expect(outcome.code).toBe('ISSUER_NOT_FOUND');
    expect(outcome.changedFiles).toEqual([stapleFile]);
    expect(await exists(stapleFile)).toBe(false);
  });
});
