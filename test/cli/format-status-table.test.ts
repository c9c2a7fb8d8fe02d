// The `status` table: aligned columns, colour only where asked, and names from disk that cannot drive the terminal.
import { describe, expect, it } from '@jest/globals';
import { formatStatusJson, formatStatusTable } from '../../src/cli/format-status-table.js';
import type { CertificateStatusRow } from '../../src/types/index.js';

const CONTROL_OR_BIDI = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function row(overrides: Partial<CertificateStatusRow> = {}): CertificateStatusRow {
  return {
    path: '/certs/a.pem',
    certFiles: ['/certs/a.pem'],
    stapleFiles: ['/certs/a.pem.ocsp'],
    subject: 'CN=a.test',
    serialHex: '0a1b',
    mustStaple: false,
    ocspUrl: 'http://127.0.0.1:8080/',
    state: 'fresh',
    consecutiveFailures: 0,
    ...overrides,
  };
}

describe('formatStatusTable', () => {
  it('prints one header line and one line per certificate, columns aligned', () => {
    const lines = formatStatusTable([row(), row({ path: '/certs/longer-name.pem', state: 'missing' })], { colour: false }).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((line) => line.indexOf('CN=a.test'))).toEqual([-1, lines[2]!.indexOf('CN=a.test'), lines[2]!.indexOf('CN=a.test')]);
  });

  it('escapes a path holding ESC [2J and a newline, and a subject holding a colour sequence and a bidi override', () => {
    const hostile = row({ path: '/certs/\x1b[2J\n/etc/passwd.pem', subject: 'CN=evil\x1b[31m\u202egnp.test' });

    const text = formatStatusTable([hostile, row()], { colour: false });

    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(text).not.toMatch(CONTROL_OR_BIDI);
    expect(lines[1]).toContain('/certs/\\x1b[2J\\n/etc/passwd.pem');
    expect(lines[1]).toContain('CN=evil\\x1b[31m\\u202egnp.test');
    // Widths count the escaped text, so the next column still lines up.
    expect(lines[1]!.indexOf('CN=evil')).toBe(lines[2]!.indexOf('CN=a.test'));
  });

  it('still colours the STATE column on a terminal, and nothing else', () => {
    const text = formatStatusTable([row({ subject: 'CN=\x1b[32mfake' })], { colour: true });
    expect(text.match(/\x1b\[/g)).toHaveLength(2);
    expect(text).toContain('\x1b[32mfresh');
  });
});

describe('formatStatusJson', () => {
  it('writes a subject with C1 and bidi controls as \\u escapes that parse back to the exact subject', () => {
    const subject = 'CN=a\u009b2J\u202egnp\x1b[31m.test';

    const text = formatStatusJson([row({ subject })], { source: 'files' });

    expect(text).not.toMatch(CONTROL_OR_BIDI);
    expect((JSON.parse(text) as { certificates: { subject: string }[] }).certificates[0]!.subject).toBe(subject);
  });
});

describe('formatStatusTable with CRL verdicts (docs/revocation.md)', () => {
  const crl = { url: 'http://crl.example.test/ca.crl', thisUpdate: new Date('2026-03-01T00:00:00Z'), nextUpdate: new Date('2026-03-08T00:00:00Z') };

  it('shows crl-good with the CRL\'s thisUpdate and nextUpdate, and a CRL revocation as "revoked (crl)"', () => {
    const good = row({ ocspUrl: null, stapleFiles: [], state: 'crl-good', crl: { ...crl, status: 'good' } });
    const revoked = row({ path: '/certs/b.pem', ocspUrl: null, state: 'revoked', revocationSource: 'crl', crl: { ...crl, status: 'revoked' } });

    const [, goodLine, revokedLine] = formatStatusTable([good, revoked], { colour: false }).trimEnd().split('\n');

    expect(goodLine).toMatch(/not applicable\s+crl-good\s+2026-03-01T00:00:00Z\s+2026-03-08T00:00:00Z\s+-/);
    expect(revokedLine).toMatch(/not applicable\s+revoked \(crl\)\s+2026-03-01T00:00:00Z/);
  });
});
