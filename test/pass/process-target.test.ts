// Per-certificate staple decisions: when to fetch, what to write, what to keep, and how failures back off.
import { describe, it, expect } from '@jest/globals';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IssuedIdentity } from '../../src/demo/demo-pki.js';
import { parseOcspRequest } from '../../src/demo/sign-ocsp-response.js';
import { signTestResponse } from '../helpers/fake-http.js';
import { exists } from '../helpers/test-pki.js';
import { createPassFixture, DAY_MS, HOUR_MS, MINUTE_MS, OCSP_URL, readBytes, readStaple, T0, usePassSuite, type LeafScenario } from './pass-fixture.js';

const suite = usePassSuite();

/** One leaf with an OCSP URL, written as leaf + intermediate (the issuer is in the file). */
function scenario(leaf: { mustStaple?: boolean } = {}): Promise<LeafScenario> {
  return suite.leafScenario({ leaf });
}

describe('fetching and refreshing', () => {
  it('writes a staple when none exists', async () => {
    const { fx, leaf, stapleFile } = await scenario();
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    expect(outcome.changedFiles).toEqual([stapleFile]);
    expect(outcome.hasGoodStaple).toBe(true);
    expect(fx.http.ocspRequestCount).toBe(1);
    const staple = await readStaple(suite.pki, stapleFile, leaf, T0);
    expect(staple?.certStatus).toBe('good');
    expect(staple?.thisUpdate).toEqual(new Date(T0.getTime() - MINUTE_MS));
    expect(fx.logger.events.some((e) => e.event === 'staple.written' && e.level === 'info')).toBe(true);
  });

  it('makes no request while the staple is fresh', async () => {
    const { fx, stapleFile } = await scenario();
    await fx.passOne();
    const before = await readBytes(stapleFile);
    fx.clock.advance(6 * HOUR_MS);
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('fresh');
    expect(outcome.changedFiles).toEqual([]);
    expect(outcome.hasGoodStaple).toBe(true);
    expect(fx.http.ocspRequestCount).toBe(1);
    expect(await readBytes(stapleFile)).toEqual(before);
  });

  it('logs a fresh staple at debug with its file, serial, subject and instants, and builds nothing when debug is off', async () => {
    const { fx, certFile } = await scenario();
    await fx.passOne();
    fx.clock.advance(HOUR_MS);
    const outcome = await fx.passOne();
    const fresh = fx.logger.events.filter((e) => e.event === 'staple.fresh');
    expect(fresh).toEqual([{
      level: 'debug',
      event: 'staple.fresh',
      message: 'staple is fresh',
      fields: { file: certFile, serial: outcome.serialHex, subject: outcome.subject, thisUpdate: outcome.thisUpdate, nextUpdate: outcome.nextUpdate, refreshAt: expect.any(Date) },
    }]);
    // A logger at info: the pass asks before building the event, so none reaches log().
    fx.logger.isEnabled = (level) => level !== 'debug';
    expect((await fx.passOne()).kind).toBe('fresh');
    expect(fx.logger.events.filter((e) => e.event === 'staple.fresh')).toHaveLength(1);
  });

  it('makes no request after a restart when the staple on disk is fresh', async () => {
    const { fx } = await scenario();
    await fx.passOne();
    fx.history.clear(); // a new process remembers nothing
    fx.clock.advance(HOUR_MS);
    expect((await fx.passOne()).kind).toBe('fresh');
    expect(fx.http.ocspRequestCount).toBe(1);
  });

  it('refreshes once the clock passes the halfway point of the staple', async () => {
    const { fx, leaf, stapleFile } = await scenario();
    await fx.passOne();
    // The staple covers T0-1min .. T0+23h59min: halfway is T0+11h59min (random 0.5 = no jitter).
    fx.clock.set(new Date(T0.getTime() + 11 * HOUR_MS + 58 * MINUTE_MS));
    expect((await fx.passOne()).kind).toBe('fresh');
    expect(fx.http.ocspRequestCount).toBe(1);

    fx.clock.set(new Date(T0.getTime() + 12 * HOUR_MS));
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    expect(fx.http.ocspRequestCount).toBe(2);
    const staple = await readStaple(suite.pki, stapleFile, leaf, fx.clock.now());
    expect(staple?.thisUpdate).toEqual(new Date(T0.getTime() + 12 * HOUR_MS - MINUTE_MS));
  });

  it('fetches again with force even when the staple is fresh', async () => {
    const { fx } = await scenario();
    await fx.passOne();
    await fx.passOne({ force: true });
    expect(fx.http.ocspRequestCount).toBe(2);
  });

  it('keeps the newer staple when the responder replays an older response', async () => {
    const { fx, stapleFile } = await scenario();
    await fx.passOne();
    const before = await readBytes(stapleFile);
    const statBefore = await stat(stapleFile);
    fx.clock.advance(13 * HOUR_MS);
    // Still valid at T0+13h, but older than the staple on disk (a CDN serving a cached answer, RFC 5019 section 6).
    fx.http.answerTimes = { thisUpdate: new Date(T0.getTime() - 2 * HOUR_MS), nextUpdate: new Date(T0.getTime() + 22 * HOUR_MS) };
    const outcome = await fx.passOne();
    expect(fx.http.ocspRequestCount).toBe(2);
    expect(outcome.kind).toBe('unchanged');
    expect(outcome.changedFiles).toEqual([]);
    expect(await readBytes(stapleFile)).toEqual(before);
    // Not rewritten either: same inode and mtime, so file watchers and reload hooks stay quiet (docs/behaviour.md).
    const statAfter = await stat(stapleFile);
    expect([statAfter.ino, statAfter.mtimeMs]).toEqual([statBefore.ino, statBefore.mtimeMs]);
    expect(fx.logger.events.some((e) => e.event === 'staple.kept')).toBe(true);
  });

  it('does not ask again at once when the responder still serves the response already on disk', async () => {
    const { fx } = await scenario();
    await fx.passOne();
    // Responders and their CDNs serve one pre-generated response for hours (RFC 5019 section 6).
    fx.http.answerTimes = { thisUpdate: new Date(T0.getTime() - MINUTE_MS) };
    fx.clock.advance(13 * HOUR_MS);
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('unchanged');
    expect(fx.http.ocspRequestCount).toBe(2);
    // The daemon sleeps until nextActionAt (at least 1 s): a time in the past means a request every second.
    expect(outcome.nextActionAt!.getTime()).toBeGreaterThan(fx.clock.now().getTime());
    await fx.passOne();
    expect(fx.http.ocspRequestCount).toBe(2);
  });

  it('asks again after the pause and writes the answer once the responder has a newer one', async () => {
    const { fx, stapleFile } = await scenario();
    await fx.passOne();
    fx.http.answerTimes = { thisUpdate: new Date(T0.getTime() - MINUTE_MS) };
    fx.clock.advance(13 * HOUR_MS);
    const stale = await fx.passOne();
    expect(stale.kind).toBe('unchanged');
    // The pause doubles like a failure backoff: the first one is between 30 s and 1 min.
    const pauseMs = stale.nextActionAt!.getTime() - fx.clock.now().getTime();
    expect(pauseMs).toBeGreaterThanOrEqual(30_000);
    expect(pauseMs).toBeLessThanOrEqual(60_000);
    fx.clock.advance(pauseMs);
    fx.http.answerTimes = { thisUpdate: fx.clock.now() };
    const renewed = await fx.passOne();
    expect(fx.http.ocspRequestCount).toBe(3);
    expect(renewed.kind).toBe('written');
    expect(renewed.changedFiles).toEqual([stapleFile]);
    expect(renewed.nextActionAt!.getTime()).toBeGreaterThan(fx.clock.now().getTime() + HOUR_MS);
    expect(fx.history.get(renewed.key!)?.staleAnswers).toBeUndefined();
  });

  it('replaces a staple that belongs to another certificate', async () => {
    const { fx, leaf, stapleFile } = await scenario();
    const other = await suite.pki.issueLeaf({ commonName: 'other.test', ocspUrls: [OCSP_URL] });
    // Newer than anything the responder will answer: only its certificate makes it unusable here.
    const foreign = await signTestResponse(suite.pki.authority, other.certificate, { thisUpdate: T0, nextUpdate: new Date(T0.getTime() + DAY_MS) });
    await writeFile(stapleFile, foreign);
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    expect(fx.http.ocspRequestCount).toBe(1);
    const staple = await readStaple(suite.pki, stapleFile, leaf, T0);
    expect(staple?.serialHex).toBe(leaf.certificate.summary.serialHex);
  });

  it('replaces a corrupt staple file', async () => {
    const { fx, leaf, stapleFile } = await scenario();
    await writeFile(stapleFile, Buffer.from('<html>not ocsp</html>'));
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    expect((await readStaple(suite.pki, stapleFile, leaf, T0))?.certStatus).toBe('good');
  });
});

describe('certificate renewal', () => {
  /** The same certificate file, now holding a renewed leaf. */
  async function renew(sc: LeafScenario, options: { ocspUrls: string[] }): Promise<IssuedIdentity> {
    const renewed = await suite.pki.issueLeaf(options);
    await writeFile(sc.certFile, renewed.certificate.toPem() + suite.pki.authority.intermediate.certificate.toPem());
    return renewed;
  }

  it('replaces the old staple at once after a renewal', async () => {
    const sc = await scenario();
    await sc.fx.passOne();
    const renewed = await renew(sc, { ocspUrls: [OCSP_URL] });
    sc.fx.clock.advance(HOUR_MS);
    const outcome = await sc.fx.passOne();
    expect(outcome.kind).toBe('written');
    expect((await readStaple(suite.pki, sc.stapleFile, renewed, sc.fx.clock.now()))?.serialHex).toBe(renewed.certificate.summary.serialHex);
  });

  it('removes the old staple after a renewal when the new certificate cannot be fetched for', async () => {
    const sc = await scenario();
    await sc.fx.passOne();
    await renew(sc, { ocspUrls: [OCSP_URL] });
    sc.fx.http.failWith = { statusCode: 500 };
    const outcome = await sc.fx.passOne();
    expect(outcome.kind).toBe('failed');
    expect(outcome.changedFiles).toEqual([sc.stapleFile]);
    expect(await exists(sc.stapleFile)).toBe(false);
  });

  it('removes the old staple after a renewal to a certificate without an OCSP URL', async () => {
    // Let's Encrypt's 2025 change: the renewed certificate has no OCSP URL, the old staple must not be served with it.
    const sc = await scenario();
    await sc.fx.passOne();
    await renew(sc, { ocspUrls: [] });
    const outcome = await sc.fx.passOne();
    expect(outcome.kind).toBe('not-applicable');
    expect(await exists(sc.stapleFile)).toBe(false);
    expect(outcome.changedFiles).toEqual([sc.stapleFile]);
  });
});

describe('staples that cannot be fetched for', () => {
  function leafOnly(): Promise<LeafScenario> {
    // Leaf only, no chain, no issuer dir, no AIA caIssuers: the issuer is nowhere to be found.
    return suite.leafScenario({ layout: 'leaf' });
  }

  it('removes an expired staple even when the issuer cannot be found (expiry needs no signature check)', async () => {
    const { fx, leaf, stapleFile } = await leafOnly();
    const expired = { thisUpdate: new Date(T0.getTime() - 2 * DAY_MS), nextUpdate: new Date(T0.getTime() - DAY_MS) };
    await writeFile(stapleFile, await signTestResponse(suite.pki.authority, leaf.certificate, expired));
    const outcome = await fx.passOne();
    expect(outcome.code).toBe('ISSUER_NOT_FOUND');
    expect(await exists(stapleFile)).toBe(false);
    expect(outcome.changedFiles).toEqual([stapleFile]);
  });

  it('removes a staple without nextUpdate past its lifetime when the issuer cannot be found (a server would staple it forever)', async () => {
    const { fx, leaf, stapleFile } = await leafOnly();
    await writeFile(stapleFile, await signTestResponse(suite.pki.authority, leaf.certificate, { thisUpdate: new Date(T0.getTime() - 2 * DAY_MS), nextUpdate: null }));
    const outcome = await fx.passOne();
    expect(outcome.code).toBe('ISSUER_NOT_FOUND');
    expect(await exists(stapleFile)).toBe(false);
  });

  it('leaves an unexpired staple for this serial alone when the issuer cannot be found', async () => {
    const { fx, leaf, stapleFile } = await leafOnly();
    await writeFile(stapleFile, await signTestResponse(suite.pki.authority, leaf.certificate, { thisUpdate: T0, nextUpdate: new Date(T0.getTime() + DAY_MS) }));
    const outcome = await fx.passOne();
    expect(outcome.code).toBe('ISSUER_NOT_FOUND');
    expect(await exists(stapleFile)).toBe(true);
    expect(outcome.changedFiles).toEqual([]);
    expect(fx.http.ocspRequestCount).toBe(0);
  });
});

describe('certificates without an OCSP URL', () => {
  it('logs a plain certificate at info, and a must-staple one at error (it can never be stapled)', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [] }), 'fullchain', 'plain');
    await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [], mustStaple: true }), 'fullchain', 'must');
    const report = await fx.pass();
    expect(report.outcomes.map((o) => o.kind)).toEqual(['not-applicable', 'not-applicable']);
    const levels = fx.logger.events
      .filter((e) => e.event === 'cert.not_applicable')
      .map((e) => [path.basename(String(e.fields.file)), e.level])
      .sort();
    expect(levels).toEqual([
      ['must.pem', 'error'],
      ['plain.pem', 'info'],
    ]);
  });
});

describe('nginx snippets while staples are removed', () => {
  it('switches the snippet off before the staple file goes, so a reload in between never names a missing file', async () => {
    const { fx, stapleFile } = await scenario();
    const snippet = stapleFile.replace(/\.ocsp$/, '.stapling.conf');
    await fx.passOne({ nginxSnippets: true });
    expect(await readFile(snippet, 'utf8')).toContain('ssl_stapling_file');
    // Past nextUpdate with the responder down: the staple has expired and must go.
    fx.clock.advance(2 * DAY_MS);
    fx.http.failWith = { statusCode: 500 };
    const mark = fx.logger.events.length;
    await fx.passOne({ nginxSnippets: true });
    expect(await exists(stapleFile)).toBe(false);
    expect(await readFile(snippet, 'utf8')).not.toContain('ssl_stapling_file');
    const order = fx.logger.events.slice(mark).map((e) => e.event).filter((e) => e === 'nginx.snippet_written' || e === 'staple.removed');
    expect(order).toEqual(['nginx.snippet_written', 'staple.removed']);
  });
});

describe('revoked and unknown answers', () => {
  it('writes a revoked response over a good staple even when the good one has a later thisUpdate', async () => {
    const { fx, leaf, stapleFile } = await scenario();
    await fx.passOne();
    fx.http.setStatus(leaf.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(T0.getTime() - 3 * HOUR_MS), reason: 1 });
    fx.http.answerTimes = { thisUpdate: new Date(T0.getTime() - 2 * HOUR_MS), nextUpdate: new Date(T0.getTime() + 22 * HOUR_MS) };
    fx.clock.advance(13 * HOUR_MS);
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('revoked');
    expect(outcome.code).toBe('CERT_REVOKED');
    expect(outcome.changedFiles).toEqual([stapleFile]);
    expect(outcome.hasGoodStaple).toBe(false);
    const staple = await readStaple(suite.pki, stapleFile, leaf, fx.clock.now());
    expect(staple?.certStatus).toBe('revoked');
    expect(fx.logger.events.find((e) => e.event === 'cert.revoked')?.level).toBe('error');
  });

  it('still reports a revoked certificate as revoked on the next pass, when its staple is fresh', async () => {
    const { fx, leaf } = await scenario();
    fx.http.setStatus(leaf.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(T0.getTime() - HOUR_MS) });
    expect((await fx.passOne()).kind).toBe('revoked');
    const again = await fx.passOne();
    expect(fx.http.ocspRequestCount).toBe(1);
    // `once` prints nothing for 'fresh' outcomes: a revoked certificate must not hide behind that word.
    expect(again.kind).toBe('revoked');
    expect(again.code).toBe('CERT_REVOKED');
    expect(again.certStatus).toBe('revoked');
    expect(again.hasGoodStaple).toBe(false);
  });

  it('removes the staple of a revoked certificate when onRevoked is remove', async () => {
    const { fx, leaf, stapleFile } = await scenario();
    await fx.passOne();
    fx.http.setStatus(leaf.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date(T0.getTime() - HOUR_MS) });
    const outcome = await fx.passOne({ force: true, onRevoked: 'remove' });
    expect(outcome.kind).toBe('revoked');
    expect(outcome.changedFiles).toEqual([stapleFile]);
    expect(await exists(stapleFile)).toBe(false);
    expect(outcome.files?.[0]?.staple).toBeUndefined();
  });

  it('keeps the current good staple when the responder answers unknown', async () => {
    const { fx, leaf, stapleFile } = await scenario();
    await fx.passOne();
    const before = await readBytes(stapleFile);
    fx.http.setStatus(leaf.certificate.summary.serialHex, { status: 'unknown' });
    fx.clock.advance(13 * HOUR_MS);
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('unknown');
    expect(outcome.code).toBe('CERT_STATUS_UNKNOWN');
    expect(outcome.hasGoodStaple).toBe(true);
    expect(outcome.changedFiles).toEqual([]);
    expect(await readBytes(stapleFile)).toEqual(before);
    expect(fx.history.get(leaf.certificate.summary.fingerprintSha256)?.consecutiveFailures).toBe(1);
  });
});

describe('failures and backoff', () => {
  it('keeps a valid staple when the fetch fails, and records the failure', async () => {
    const { fx, leaf, stapleFile } = await scenario();
    await fx.passOne();
    const before = await readBytes(stapleFile);
    fx.clock.advance(13 * HOUR_MS);
    fx.http.failWith = { statusCode: 500 };
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('failed');
    expect(outcome.code).toBe('FETCH_HTTP_STATUS');
    expect(outcome.hasGoodStaple).toBe(true);
    expect(outcome.changedFiles).toEqual([]);
    expect(await readBytes(stapleFile)).toEqual(before);
    const history = fx.history.get(leaf.certificate.summary.fingerprintSha256);
    expect(history?.consecutiveFailures).toBe(1);
    expect(history?.lastErrorCode).toBe('FETCH_HTTP_STATUS');
    expect(history?.nextAttemptAt!.getTime()).toBeGreaterThan(fx.clock.now().getTime());
    expect(outcome.nextActionAt).toEqual(history?.nextAttemptAt);
  });

  it('makes no request before nextAttemptAt, then tries again and counts the failure', async () => {
    const { fx, leaf } = await scenario();
    fx.http.failWith = { statusCode: 500 };
    await fx.passOne();
    const key = leaf.certificate.summary.fingerprintSha256;
    const nextAttemptAt = fx.history.get(key)!.nextAttemptAt!;
    const requests = fx.http.requests.length;

    fx.clock.set(new Date(nextAttemptAt.getTime() - 1000));
    const waiting = await fx.passOne();
    expect(waiting.kind).toBe('backing-off');
    expect(waiting.nextActionAt).toEqual(nextAttemptAt);
    expect(fx.http.requests.length).toBe(requests);

    fx.clock.set(nextAttemptAt);
    const retried = await fx.passOne();
    expect(retried.kind).toBe('failed');
    expect(fx.http.requests.length).toBeGreaterThan(requests);
    expect(fx.history.get(key)?.consecutiveFailures).toBe(2);
  });

  it('clears the failure count after a success', async () => {
    const { fx, leaf } = await scenario();
    fx.http.failWith = { statusCode: 500 };
    await fx.passOne();
    const key = leaf.certificate.summary.fingerprintSha256;
    fx.clock.set(fx.history.get(key)!.nextAttemptAt!);
    fx.http.failWith = undefined;
    expect((await fx.passOne()).kind).toBe('written');
    expect(fx.history.get(key)?.consecutiveFailures).toBe(0);
  });

  it('removes an expired staple when the fetch fails', async () => {
    const { fx, stapleFile } = await scenario();
    await fx.passOne();
    fx.clock.advance(25 * HOUR_MS);
    fx.http.failWith = { statusCode: 500 };
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('failed');
    expect(outcome.hasGoodStaple).toBe(false);
    expect(outcome.changedFiles).toEqual([stapleFile]);
    expect(await exists(stapleFile)).toBe(false);
    expect(fx.logger.events.some((e) => e.event === 'staple.removed')).toBe(true);
  });

  it("pushes the next attempt out to a 503's Retry-After", async () => {
    const { fx, leaf } = await scenario();
    fx.http.failWith = { statusCode: 503, headers: { 'retry-after': '3600' } };
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('failed');
    const nextAttemptAt = fx.history.get(leaf.certificate.summary.fingerprintSha256)!.nextAttemptAt!;
    expect(nextAttemptAt.getTime()).toBeGreaterThanOrEqual(T0.getTime() + 3600 * 1000);

    const requests = fx.http.requests.length;
    fx.clock.advance(30 * MINUTE_MS);
    expect((await fx.passOne()).kind).toBe('backing-off');
    expect(fx.http.requests.length).toBe(requests);
  });

  it('logs a must-staple failure at error level', async () => {
    const { fx } = await scenario({ mustStaple: true });
    fx.http.failWith = { statusCode: 500 };
    const outcome = await fx.passOne();
    expect(outcome.mustStaple).toBe(true);
    const failure = fx.logger.events.find((e) => e.event === 'fetch.failed');
    expect(failure?.level).toBe('error');
    expect(failure?.fields.code).toBe('FETCH_HTTP_STATUS');
  });

  it('logs other fetch failures at warn level', async () => {
    const { fx, certFile } = await scenario();
    fx.http.failWith = { statusCode: 500 };
    await fx.passOne();
    const failure = fx.logger.events.find((e) => e.event === 'fetch.failed');
    expect(failure?.level).toBe('warn');
    expect(failure?.fields.file).toBe(certFile);
    expect(failure?.fields.url).toBe(OCSP_URL);
  });
});

describe('certificates that are not fetched for', () => {
  it('skips an expired certificate without a request', async () => {
    const { fx } = await suite.leafScenario({ leaf: { notBefore: new Date(T0.getTime() - 30 * DAY_MS), notAfter: new Date(T0.getTime() - DAY_MS) } });
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('expired-certificate');
    expect(outcome.code).toBe('CERT_EXPIRED');
    expect(fx.http.requests).toHaveLength(0);
    expect(fx.logger.events.some((e) => e.event === 'cert.expired')).toBe(true);
  });

  it('reports a certificate without an OCSP URL as not applicable, with one info event and no request', async () => {
    const { fx, certFile } = await suite.leafScenario({ leaf: { ocspUrls: [] } });
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('not-applicable');
    expect(outcome.code).toBe('NO_OCSP_URL');
    expect(fx.http.requests).toHaveLength(0);
    const events = fx.logger.events.filter((e) => e.event === 'cert.not_applicable');
    expect(events).toHaveLength(1);
    expect(events[0]?.level).toBe('info');
    expect(events[0]?.fields.file).toBe(certFile);
    expect(fx.logger.events.filter((e) => e.level === 'warn' || e.level === 'error')).toEqual([]);
  });

  it('uses the configured responder URL instead of the certificate AIA', async () => {
    const override = 'http://127.0.0.1:9/override/';
    const { fx } = await suite.leafScenario({ config: { responder: override }, leaf: { ocspUrls: ['http://127.0.0.1:9/from-aia/'] } });
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    expect(fx.http.requests.length).toBeGreaterThan(0);
    expect(fx.http.requests.every((req) => req.url.startsWith(override))).toBe(true);
  });

  it('fetches with the responder override for a certificate that has no OCSP URL', async () => {
    const { fx } = await suite.leafScenario({ config: { responder: OCSP_URL }, leaf: { ocspUrls: [] } });
    expect((await fx.passOne()).kind).toBe('written');
  });

  it('tries the next OCSP URL when the first fails', async () => {
    const broken = 'http://127.0.0.1:9/broken/';
    const { fx } = await suite.leafScenario({ leaf: { ocspUrls: [broken, OCSP_URL] } });
    fx.http.failWhen = (req) => (req.url.startsWith(broken) ? { statusCode: 500 } : undefined);
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    const attempt = fx.logger.events.find((e) => e.event === 'fetch.attempt_failed');
    expect(attempt?.level).toBe('warn');
    expect(attempt?.fields.url).toBe(broken);
  });

  it('logs a failed responder URL without the password it carries', async () => {
    const broken = 'http://staplerd:s3cret-pass@127.0.0.1:9/broken/';
    const { fx } = await suite.leafScenario({ leaf: { ocspUrls: [broken, OCSP_URL] } });
    fx.http.failWhen = (req) => (req.url.startsWith(broken) ? { statusCode: 500 } : undefined);
    expect((await fx.passOne()).kind).toBe('written');
    const attempt = fx.logger.events.find((e) => e.event === 'fetch.attempt_failed');
    expect(attempt?.fields.url).toMatch(/^http:\/\/staplerd:.+@127\.0\.0\.1:9\/broken\/$/);
    expect(JSON.stringify(attempt)).not.toContain('s3cret-pass');
  });

  it('sends a nonce when configured and accepts the echoed one', async () => {
    const { fx } = await suite.leafScenario({ config: { nonce: true } });
    expect((await fx.passOne()).kind).toBe('written');
    const request = fx.http.requests[0]!;
    const der = request.method === 'POST' ? request.body! : Buffer.from(decodeURIComponent(request.url.slice(request.url.lastIndexOf('/') + 1)), 'base64');
    expect(parseOcspRequest(der).nonce).toBeDefined();
  });

  it('writes the staple under the output directory when one is configured', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    const out = path.join(fx.dir, '..', `${path.basename(fx.dir)}-out`);
    suite.dirs.push(out);
    const leaf = await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] });
    await suite.pki.writeLeaf(fx.dir, leaf, 'fullchain', 'site');
    const outcome = await fx.passOne({ out });
    expect(outcome.changedFiles).toEqual([path.join(out, 'site.pem.ocsp')]);
    expect((await readStaple(suite.pki, path.join(out, 'site.pem.ocsp'), leaf, T0))?.certStatus).toBe('good');
  });
});
