// once's exit status: each certificate asks for its code's exit column in ERROR_CODES, the worst one wins.
import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES, type ErrorCode } from '../../src/errors/index.js';
import { exitStatusOfOutcome, exitStatusOfPass, type PassReport, type TargetOutcome } from '../../src/pass/index.js';
import { T0 } from './pass-fixture.js';

const outcome = (kind: TargetOutcome['kind'], hasGoodStaple: boolean, code?: ErrorCode): TargetOutcome => ({
  kind,
  hasGoodStaple,
  code,
  certFiles: ['/certs/a.pem'],
  stapleFiles: ['/certs/a.pem.ocsp'],
  changedFiles: [],
});
const report = (...outcomes: TargetOutcome[]): PassReport => ({ startedAt: T0, finishedAt: T0, outcomes });
const CODES = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => ({ code, exit: ERROR_CODES[code].exitCode }));

describe('exitStatusOfOutcome', () => {
  it.each(CODES)('asks for $exit when a certificate failed with $code and has no good staple', ({ code, exit }) => {
    expect(exitStatusOfOutcome(outcome('failed', false, code))).toBe(exit);
  });

  it.each(CODES.filter((c) => c.code !== 'CERT_STATUS_UNKNOWN'))('asks for 0 when a refresh failed with $code but a good staple is kept', ({ code }) => {
    expect(exitStatusOfOutcome(outcome('failed', true, code))).toBe(0);
  });

  it('asks for 1 for an "unknown" answer even while an older good staple is kept', () => {
    expect(exitStatusOfOutcome(outcome('unknown', true, 'CERT_STATUS_UNKNOWN'))).toBe(1);
  });
});

describe('exitStatusOfPass', () => {
  it('exits 2 when a certificate failed on a configuration error, even beside other failures', () => {
    expect(exitStatusOfPass(report(outcome('failed', false, 'FETCH_NETWORK'), outcome('failed', false, 'CONFIG_INVALID')))).toBe(2);
  });

  it('exits 0 for certificates that have no OCSP URL or have expired, with or without their code', () => {
    expect(exitStatusOfPass(report(outcome('not-applicable', false, 'NO_OCSP_URL'), outcome('expired-certificate', false), outcome('fresh', true)))).toBe(0);
  });

  it('exits 0 for a pass without certificates', () => {
    expect(exitStatusOfPass(report())).toBe(0);
  });
});
