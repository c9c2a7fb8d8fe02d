// The `once` summary: a line per certificate that changed or needs attention, quiet for fresh ones, then totals.
import { describe, it, expect } from '@jest/globals';
import { formatPassSummary } from '../../src/cli/format-summary.js';
import type { PassReport, TargetOutcome } from '../../src/pass/index.js';

const START = new Date('2031-03-01T12:00:00.000Z');
const NEXT_UPDATE = new Date('2031-03-02T11:59:00.000Z');

function outcome(kind: TargetOutcome['kind'], overrides: Partial<TargetOutcome> = {}): TargetOutcome {
  return {
    kind,
    certFiles: ['/certs/a.pem'],
    stapleFiles: ['/certs/a.pem.ocsp'],
    changedFiles: [],
    subject: 'CN=a.test',
    hasGoodStaple: false,
    ...overrides,
  };
}

function report(outcomes: TargetOutcome[], durationMs = 1234): PassReport {
  return { startedAt: START, finishedAt: new Date(START.getTime() + durationMs), outcomes };
}

function lines(text: string): string[] {
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('formatPassSummary', () => {
  it('shows a written staple with its status, nextUpdate and the files written', () => {
    const text = formatPassSummary(
      report([outcome('written', { certStatus: 'good', nextUpdate: NEXT_UPDATE, changedFiles: ['/certs/a.pem.ocsp'], hasGoodStaple: true })]),
    );
    expect(lines(text)).toEqual([
      'written   CN=a.test: good until 2031-03-02T11:59:00.000Z -> /certs/a.pem.ocsp',
      '1 certificates: 1 written (1.23 s)',
    ]);
  });

  it('shows a failure with its code and message, and says when the current staple was kept', () => {
    const text = formatPassSummary(
      report([
        outcome('failed', { certFiles: ['/certs/b.pem'], code: 'FETCH_TIMEOUT', message: 'no answer', hasGoodStaple: true }),
        outcome('failed', { certFiles: ['/certs/c.pem'], code: 'ISSUER_NOT_FOUND', message: 'no issuer' }),
      ]),
    );
    expect(lines(text)).toEqual([
      'failed    /certs/b.pem: FETCH_TIMEOUT: no answer (current staple kept)',
      'failed    /certs/c.pem: ISSUER_NOT_FOUND: no issuer',
      '2 certificates: 2 failed (1.23 s)',
    ]);
  });

  it('lists staples removed after a failure under the failure', () => {
    const text = formatPassSummary(report([outcome('failed', { code: 'FETCH_NETWORK', message: 'refused', changedFiles: ['/certs/a.pem.ocsp'] })]));
    expect(lines(text)).toEqual(['failed    /certs/a.pem: FETCH_NETWORK: refused', '          removed /certs/a.pem.ocsp', '1 certificates: 1 failed (1.23 s)']);
  });

  it('shouts about a revoked certificate and names the staple written', () => {
    const text = formatPassSummary(report([outcome('revoked', { code: 'CERT_REVOKED', changedFiles: ['/certs/a.pem.ocsp'] })]));
    expect(lines(text)[0]).toBe('REVOKED   CN=a.test (/certs/a.pem) revoked; staple /certs/a.pem.ocsp');
  });

  it('says when a revoked certificate changed no file', () => {
    const text = formatPassSummary(report([outcome('revoked', { code: 'CERT_REVOKED' })]));
    expect(lines(text)[0]).toBe('REVOKED   CN=a.test (/certs/a.pem) revoked; no file changed');
  });

  it('says a certificate waits for the backoff, or for its input to change when its code is not retried', () => {
    const text = formatPassSummary(
      report([outcome('backing-off', { code: 'FETCH_NETWORK', nextActionAt: new Date('2031-03-01T12:05:00Z') }), outcome('backing-off', { code: 'URL_UNSUPPORTED' })]),
    );
    expect(lines(text).slice(0, 2)).toEqual([
      'waiting   /certs/a.pem: retry after backoff [FETCH_NETWORK]',
      'waiting   /certs/a.pem: not retried until the certificate or its responder URLs change [URL_UNSUPPORTED]',
    ]);
  });

  it('marks a certificate without an OCSP URL as not applicable', () => {
    const text = formatPassSummary(report([outcome('not-applicable', { code: 'NO_OCSP_URL' })]));
    expect(lines(text)).toEqual(['n/a       /certs/a.pem: no OCSP URL (not applicable)', '1 certificates: 1 not-applicable (1.23 s)']);
  });

  it('stays quiet about fresh and unchanged staples but counts them', () => {
    const text = formatPassSummary(report([outcome('fresh', { hasGoodStaple: true }), outcome('unchanged', { hasGoodStaple: true })], 50));
    expect(lines(text)).toEqual(['2 certificates: 1 fresh, 1 unchanged (0.05 s)']);
  });

  it('orders the totals and joins several files of one leaf', () => {
    const text = formatPassSummary(
      report([
        outcome('failed', { code: 'FETCH_HTTP_STATUS', message: 'HTTP 500' }),
        outcome('expired-certificate', { certFiles: ['/certs/old.pem', '/certs/old-copy.pem'] }),
        outcome('written', { certStatus: 'good', nextUpdate: NEXT_UPDATE, changedFiles: ['/certs/d.pem.ocsp'] }),
        outcome('fresh'),
      ]),
    );
    const all = lines(text);
    expect(all).toContain('skipped   /certs/old.pem, /certs/old-copy.pem: certificate expired');
    expect(all.at(-1)).toBe('4 certificates: 1 written, 1 fresh, 1 expired-certificate, 1 failed (1.23 s)');
  });

  it('escapes a subject with an ESC sequence and file names with ESC [2J and a newline, one line per certificate', () => {
    const text = formatPassSummary(
      report([
        outcome('written', {
          subject: 'CN=evil\x1b]0;owned\x07.test',
          certStatus: 'good',
          nextUpdate: NEXT_UPDATE,
          changedFiles: ['/certs/\x1b[2J\n/etc/passwd.pem.ocsp'],
        }),
        outcome('failed', { certFiles: ['/certs/\u009b2J\u202egnp.pem'], code: 'FETCH_NETWORK', message: 'refused\r\x1b[1A', changedFiles: ['/certs/x\ny.ocsp'] }),
      ]),
    );
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(lines(text)).toEqual([
      'written   CN=evil\\x1b]0;owned\\x07.test: good until 2031-03-02T11:59:00.000Z -> /certs/\\x1b[2J\\n/etc/passwd.pem.ocsp',
      'failed    /certs/\\x9b2J\\u202egnp.pem: FETCH_NETWORK: refused\\r\\x1b[1A',
      '          removed /certs/x\\ny.ocsp',
      '2 certificates: 1 written, 1 failed (1.23 s)',
    ]);
  });

  it('says when no certificate was found', () => {
    expect(formatPassSummary(report([], 0))).toBe('0 certificates: none found (0.00 s)\n');
  });
});
