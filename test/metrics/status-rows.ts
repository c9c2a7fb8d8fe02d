// Builds CertificateStatusRow values for metrics and health tests, with a fresh must-not-staple default.
import type { CertificateStatusRow } from '../../src/types/index.js';

/** The fixed instant every metrics/health test evaluates at. */
export const NOW = new Date('2026-03-01T12:00:00.000Z');

export function hoursFromNow(hours: number): Date {
  return new Date(NOW.getTime() + hours * 3_600_000);
}

export function makeRow(overrides: Partial<CertificateStatusRow> = {}): CertificateStatusRow {
  const path = overrides.path ?? '/etc/ssl/site/fullchain.pem';
  return {
    path,
    certFiles: [path],
    stapleFiles: [`${path}.ocsp`],
    subject: 'CN=www.example.test',
    serialHex: '0a1b2c',
    mustStaple: false,
    ocspUrl: 'http://ocsp.example.test/',
    state: 'fresh',
    certStatus: 'good',
    thisUpdate: hoursFromNow(-12),
    nextUpdate: hoursFromNow(72),
    nextRefreshAt: hoursFromNow(30),
    consecutiveFailures: 0,
    ...overrides,
  };
}
