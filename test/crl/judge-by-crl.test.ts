// The verdict from a distribution point's state at fixed instants: a listing is final, a kept CRL decides only while
// valid, and the last download's failure is what a failed verdict reports.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { judgeByCrl } from '../../src/crl/judge-by-crl.js';
import type { DistributionPointState } from '../../src/crl/crl-checker.js';
import { StaplerdError } from '../../src/errors/index.js';
import type { Certificate } from '../../src/pki/certificate.js';
import type { ValidatedCrl } from '../../src/pki/crl-validation.js';
import { RevokedSerialsBuilder } from '../../src/pki/revoked-serials.js';
import { createTestPki } from '../helpers/test-pki.js';

const URL_A = 'http://crl.example.test/a.crl';
const URL_B = 'http://crl.example.test/b.crl';
const SKEW_MS = 5 * 60_000;
const NOW = new Date('2026-03-04T00:00:00Z');

let leaf: Certificate;

beforeAll(async () => {
  leaf = (await (await createTestPki()).issueLeaf()).certificate;
});

function crl(options: { listing?: string[]; nextUpdate?: string; idp?: ValidatedCrl['idp'] } = {}): ValidatedCrl {
  const builder = new RevokedSerialsBuilder();
  for (const serial of options.listing ?? []) builder.add(Buffer.from(serial.length % 2 ? `0${serial}` : serial, 'hex'), Date.UTC(2026, 2, 2), 1);
  return {
    issuer: 'CN=Test CA', thisUpdate: new Date('2026-03-01T00:00:00Z'), nextUpdate: new Date(options.nextUpdate ?? '2026-03-08T00:00:00Z'),
    crlNumberHex: '05', idp: options.idp, revoked: builder.build(),
  };
}

const downloadFailed = new StaplerdError('FETCH_NETWORK', 'connection refused', { url: URL_A });

describe('judgeByCrl', () => {
  const cases: [string, () => DistributionPointState, string, string | undefined][] = [
    ['a valid CRL not listing the serial: good', () => ({ crl: crl() }), 'good', undefined],
    ['a valid CRL listing the serial: revoked', () => ({ crl: crl({ listing: [leaf.summary.serialHex] }) }), 'revoked', undefined],
    ['an expired CRL listing the serial, the refresh failing: still revoked', () => ({ crl: crl({ listing: [leaf.summary.serialHex], nextUpdate: '2026-03-03T00:00:00Z' }), error: downloadFailed }), 'revoked', 'FETCH_NETWORK'],
    ['an expired CRL not listing it, the refresh failing: failed with the download error', () => ({ crl: crl({ nextUpdate: '2026-03-03T00:00:00Z' }), error: downloadFailed }), 'failed', 'FETCH_NETWORK'],
    ['an expired CRL not listing it, no failure recorded: CRL_EXPIRED', () => ({ crl: crl({ nextUpdate: '2026-03-03T00:00:00Z' }) }), 'failed', 'CRL_EXPIRED'],
    ['a valid CRL while the last download failed (kept, still fresh): good, the failure reported', () => ({ crl: crl(), error: downloadFailed }), 'good', 'FETCH_NETWORK'],
    ['nothing downloaded yet and the download failed', () => ({ error: downloadFailed }), 'failed', 'FETCH_NETWORK'],
    ['a CRL for CA certificates only: scope mismatch even when a download failed too', () => ({ crl: crl({ idp: scope({ onlyContainsCACerts: true }) }), error: downloadFailed }), 'failed', 'CRL_SCOPE_MISMATCH'],
  ];
  it.each(cases)('%s', (_name, state, status, code) => {
    const verdict = judgeByCrl([{ url: URL_A, state: state() }], leaf, NOW, SKEW_MS);
    expect({ status: verdict.status, code: verdict.error?.code }).toEqual({ status, code });
  });

  it('takes the first distribution point that decides, and reports the first failure when none does', () => {
    const failing = { url: URL_A, state: { error: downloadFailed } };
    expect(judgeByCrl([failing, { url: URL_B, state: { crl: crl() } }], leaf, NOW, SKEW_MS)).toMatchObject({ status: 'good', url: URL_B });
    const other = { url: URL_B, state: { error: new StaplerdError('CRL_UNVERIFIED', 'bad signature', { url: URL_B }) } };
    expect(judgeByCrl([failing, other], leaf, NOW, SKEW_MS)).toMatchObject({ status: 'failed', url: URL_A, error: { code: 'FETCH_NETWORK' } });
  });
});

function scope(overrides: Partial<NonNullable<ValidatedCrl['idp']>>): NonNullable<ValidatedCrl['idp']> {
  const none = { hasRelativeName: false, onlyContainsUserCerts: false, onlyContainsCACerts: false, onlySomeReasons: false, indirectCrl: false };
  return { ...none, onlyContainsAttributeCerts: false, ...overrides };
}
