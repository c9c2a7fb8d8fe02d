import { describe, expect, it } from '@jest/globals';
import { evaluateHealth, hasValidStaple, statusCodeForHealth } from '../../src/metrics/index.js';
import { hoursFromNow, makeRow, NOW } from './status-rows.js';

const MARGIN_MS = 6 * 3_600_000;

describe('evaluateHealth', () => {
  it('is healthy (200) when every staple is valid and far from nextUpdate', () => {
    const rows = [makeRow({ mustStaple: true }), makeRow({ path: '/b.pem', serialHex: '02' })];
    const report = evaluateHealth(rows, NOW, MARGIN_MS);
    expect(report).toEqual({ healthy: true, checkedAt: '2026-03-01T12:00:00.000Z', marginSeconds: 21_600, problems: [], certificates: 2 });
    expect(statusCodeForHealth(report)).toBe(200);
  });

  it('is healthy with no certificates at all', () => {
    expect(evaluateHealth([], NOW, MARGIN_MS)).toMatchObject({ healthy: true, certificates: 0 });
  });

  it('reports a must-staple certificate without a staple (503), with its state and last error', () => {
    const row = makeRow({ mustStaple: true, state: 'failing', certStatus: undefined, thisUpdate: undefined, nextUpdate: undefined, consecutiveFailures: 3, lastErrorCode: 'FETCH_TIMEOUT' });
    const report = evaluateHealth([row, makeRow({ path: '/ok.pem' })], NOW, MARGIN_MS);
    expect(statusCodeForHealth(report)).toBe(503);
    expect(report.problems).toEqual([
      {
        path: '/etc/ssl/site/fullchain.pem',
        subject: 'CN=www.example.test',
        serialHex: '0a1b2c',
        mustStaple: true,
        reason: 'no-valid-staple: must-staple certificate without a valid staple (state failing, 3 failures in a row, last error FETCH_TIMEOUT)',
      },
    ]);
  });

  it('ignores a non-must-staple certificate that has no staple yet', () => {
    const row = makeRow({ state: 'missing', certStatus: undefined, thisUpdate: undefined, nextUpdate: undefined });
    expect(evaluateHealth([row], NOW, MARGIN_MS).healthy).toBe(true);
  });

  it('reports a staple within the margin of its nextUpdate, must-staple or not', () => {
    const row = makeRow({ state: 'due', nextUpdate: hoursFromNow(2) });
    const report = evaluateHealth([row], NOW, MARGIN_MS);
    expect(report.healthy).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ mustStaple: false, nextUpdate: '2026-03-01T14:00:00.000Z', reason: 'expiring: staple expires in 2h, within the 6h margin' })]);
  });

  it('treats a staple exactly at the margin as a problem and one a second beyond it as fine', () => {
    const at = makeRow({ nextUpdate: new Date(NOW.getTime() + MARGIN_MS) });
    const beyond = makeRow({ nextUpdate: new Date(NOW.getTime() + MARGIN_MS + 1000) });
    expect(evaluateHealth([at], NOW, MARGIN_MS).healthy).toBe(false);
    expect(evaluateHealth([beyond], NOW, MARGIN_MS).healthy).toBe(true);
  });

  it('reports a staple that went past nextUpdate since the last pass even though the row still says fresh', () => {
    const row = makeRow({ state: 'fresh', nextUpdate: hoursFromNow(-1.5) });
    expect(evaluateHealth([row], NOW, MARGIN_MS).problems[0]?.reason).toBe('expiring: staple expired 1h 30m ago, within the 6h margin');
  });

  it('reports a must-staple staple past nextUpdate as having no valid staple', () => {
    const row = makeRow({ mustStaple: true, state: 'expired', nextUpdate: hoursFromNow(-1) });
    expect(evaluateHealth([row], NOW, MARGIN_MS).problems[0]?.reason).toMatch(/^no-valid-staple: .*state expired/);
  });

  it('reports a revoked certificate even when it is not must-staple', () => {
    const row = makeRow({ state: 'revoked', certStatus: 'revoked' });
    const report = evaluateHealth([row], NOW, MARGIN_MS);
    expect(report.healthy).toBe(false);
    expect(report.problems.map((p) => p.reason)).toEqual(['revoked: the responder says the certificate is revoked']);
  });

  it('never counts not-applicable or expired certificates, even must-staple ones', () => {
    const notApplicable = makeRow({ state: 'not-applicable', ocspUrl: null, mustStaple: true, certStatus: undefined, thisUpdate: undefined, nextUpdate: undefined });
    const expiredCertificate = makeRow({ path: '/old.pem', state: 'expired-certificate', mustStaple: true, nextUpdate: hoursFromNow(-100) });
    const report = evaluateHealth([notApplicable, expiredCertificate], NOW, MARGIN_MS);
    expect(report).toMatchObject({ healthy: true, problems: [], certificates: 2 });
  });

  it('lists one problem per certificate, the most serious reason first', () => {
    const row = makeRow({ mustStaple: true, state: 'revoked', certStatus: 'revoked', nextUpdate: hoursFromNow(1) });
    expect(evaluateHealth([row], NOW, MARGIN_MS).problems.map((p) => p.reason.split(':')[0])).toEqual(['revoked']);
  });
});

describe('hasValidStaple', () => {
  it.each([
    ['a fresh good staple', makeRow(), true],
    ['a due good staple', makeRow({ state: 'due' }), true],
    ['an unknown-status staple', makeRow({ state: 'unknown', certStatus: 'unknown' }), false],
    ['a staple at nextUpdate exactly', makeRow({ nextUpdate: NOW }), false],
    ['a failing certificate', makeRow({ state: 'failing', nextUpdate: undefined }), false],
  ])('judges %s', (_name, row, expected) => {
    expect(hasValidStaple(row, NOW)).toBe(expected);
  });
});
