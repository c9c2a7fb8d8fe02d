// A pass follows ERROR_CODES: retry: false waits for the input to change, each condition logs its own code at its level.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { StaplerdConfig } from '../../src/config/index.js';
import { ERROR_CODES } from '../../src/errors/index.js';
import { createHttpClient, type HttpClient } from '../../src/ocsp/http-client.js';
import { runPass, type PassReport } from '../../src/pass/index.js';
import { createTestPki, removeTempDirsAfterAll, type TestPki } from '../helpers/test-pki.js';
import { createPassFixture, HOUR_MS, OCSP_URL, type PassFixture } from './pass-fixture.js';

let pki: TestPki;
const dirs = removeTempDirsAfterAll();
/** The real client refuses an ftp:// URL before opening any socket (src/ocsp/http-client.ts parseHttpUrl). */
const realClient = createHttpClient({ userAgent: 'staplerd-test' });
const FTP_URL = 'ftp://127.0.0.1/ocsp';

beforeAll(async () => {
  pki = await createTestPki({ now: new Date('2031-03-01T12:00:00Z') });
});

afterAll(() => realClient.close());

/** http(s) URLs go to the fake responder, anything else to the real client's scheme check. */
function routedHttp(fx: PassFixture): HttpClient {
  return { request: (req) => (req.url.startsWith('http:') ? fx.http.request(req) : realClient.request(req)) };
}

async function passWith(fx: PassFixture, overrides: Partial<StaplerdConfig> = {}): Promise<PassReport> {
  return runPass({ config: { ...fx.config, ...overrides }, deps: { clock: fx.clock, random: () => 0.5, logger: fx.logger, http: routedHttp(fx) }, history: fx.history });
}

async function fixtureWithLeaf(ocspUrls: string[]): Promise<PassFixture & { certFile: string }> {
  const fx = await createPassFixture(pki, dirs);
  const { certFile } = await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls }), 'fullchain');
  return { ...fx, certFile };
}

function eventsNamed(fx: PassFixture, event: string) {
  return fx.logger.events.filter((e) => e.event === event);
}

describe('retry: false (ERROR_CODES) waits for the input to change', () => {
  it('does not ask an unsupported responder URL again on the time-based backoff', async () => {
    const fx = await fixtureWithLeaf([OCSP_URL]);
    const first = (await passWith(fx, { responder: FTP_URL })).outcomes[0]!;
    expect(first).toMatchObject({ kind: 'failed', code: 'URL_UNSUPPORTED', nextActionAt: undefined });

    fx.clock.advance(6 * HOUR_MS);
    const later = (await passWith(fx, { responder: FTP_URL })).outcomes[0]!;

    expect(later).toMatchObject({ kind: 'backing-off', code: 'URL_UNSUPPORTED', nextActionAt: undefined });
    expect(eventsNamed(fx, 'fetch.failed')).toHaveLength(1);
  });

  it('asks again as soon as the responder URL changes, and succeeds', async () => {
    const fx = await fixtureWithLeaf([OCSP_URL]);
    await passWith(fx, { responder: FTP_URL });

    const fixed = (await passWith(fx, { responder: OCSP_URL })).outcomes[0]!;

    expect(fixed).toMatchObject({ kind: 'written', hasGoodStaple: true });
    expect(fx.http.ocspRequestCount).toBe(1);
  });

  it('asks again when forced, even with the same URL', async () => {
    const fx = await fixtureWithLeaf([OCSP_URL]);
    await passWith(fx, { responder: FTP_URL });

    await passWith(fx, { responder: FTP_URL, force: true });

    expect(eventsNamed(fx, 'fetch.failed')).toHaveLength(2);
  });

  it('keeps retrying on the backoff when an earlier responder URL failed for a reason time can heal', async () => {
    const fx = await fixtureWithLeaf([OCSP_URL, FTP_URL]);
    fx.http.failWith = { statusCode: 503 };

    const first = (await passWith(fx)).outcomes[0]!;

    expect(first).toMatchObject({ kind: 'failed', code: 'FETCH_HTTP_STATUS' });
    expect(first.nextActionAt).toBeInstanceOf(Date);
    fx.http.failWith = undefined;
    fx.clock.advance(2 * HOUR_MS);
    expect((await passWith(fx)).outcomes[0]).toMatchObject({ kind: 'written', hasGoodStaple: true });
  });

  it('retries a retryable failure on the backoff, once its instant has come', async () => {
    const fx = await fixtureWithLeaf([OCSP_URL]);
    fx.http.failWith = { statusCode: 503 };
    const first = (await passWith(fx)).outcomes[0]!;
    expect(ERROR_CODES[first.code!].retry).toBe(true);
    fx.http.failWith = undefined;

    fx.clock.advance(2 * HOUR_MS);

    expect((await passWith(fx)).outcomes[0]).toMatchObject({ kind: 'written' });
  });
});

describe('each failure logs its own code at the level ERROR_CODES gives it', () => {
  it('reports an unlistable --certs directory as DIRECTORY_UNREADABLE at error, naming it', async () => {
    const fx = await createPassFixture(pki, dirs);
    const missing = path.join(fx.dir, 'no-such-dir');

    const report = await passWith(fx, { certs: [missing] });

    expect(report.outcomes).toEqual([expect.objectContaining({ kind: 'failed', code: 'DIRECTORY_UNREADABLE', certFiles: [missing] })]);
    expect(eventsNamed(fx, 'scan.failed')).toEqual([expect.objectContaining({ level: 'error', fields: expect.objectContaining({ code: 'DIRECTORY_UNREADABLE', file: missing }) })]);
  });

  it('reports a staple that cannot be removed as REMOVE_FAILED at error, naming the staple, and goes on', async () => {
    const fx = await fixtureWithLeaf([OCSP_URL]);
    const certFile = fx.certFile;
    // A directory where the staple belongs: neither readable as a staple nor removable as a file.
    await mkdir(path.join(`${certFile}.ocsp`, 'inside'), { recursive: true });
    // The fetch fails, so the invalid staple is removed rather than overwritten.
    fx.http.failWith = { statusCode: 503 };

    const report = await passWith(fx);

    const failures = eventsNamed(fx, 'staple.remove_failed');
    expect(failures).toEqual([expect.objectContaining({ level: 'error', fields: expect.objectContaining({ code: 'REMOVE_FAILED', staple: `${certFile}.ocsp` }) })]);
    expect(report.outcomes).toHaveLength(1);
  });

  it('logs a fetch failure of a must-staple certificate at error whatever its code says', async () => {
    const fx = await createPassFixture(pki, dirs);
    await pki.writeLeaf(fx.dir, await pki.issueLeaf({ ocspUrls: [OCSP_URL], mustStaple: true }), 'fullchain');
    fx.http.failWith = { statusCode: 503 };

    await passWith(fx);

    expect(ERROR_CODES.FETCH_HTTP_STATUS.level).not.toBe('error');
    expect(eventsNamed(fx, 'fetch.failed')).toEqual([expect.objectContaining({ level: 'error', fields: expect.objectContaining({ code: 'FETCH_HTTP_STATUS', mustStaple: true }) })]);
  });

  it('logs an attempt on one of several responder URLs at its code\'s level', async () => {
    const fx = await fixtureWithLeaf([FTP_URL, OCSP_URL]);

    await passWith(fx);

    expect(eventsNamed(fx, 'fetch.attempt_failed')).toEqual([
      expect.objectContaining({ level: ERROR_CODES.URL_UNSUPPORTED.level, fields: expect.objectContaining({ code: 'URL_UNSUPPORTED', url: FTP_URL }) }),
    ]);
  });
});
