// H2O's exit statuses from staplerd's error codes: 75 retries later, anything else but 0 disables stapling.
import { describe, expect, it } from '@jest/globals';
import { EX_PERMANENT, EX_TEMPFAIL, EX_USAGE_OR_CONFIG, exitStatusFor } from '../../../src/servers/h2o/index.js';

describe('exitStatusFor (H2O: 75 retries later, anything else but 0 disables stapling)', () => {
  it.each([
    ['FETCH_TIMEOUT', EX_TEMPFAIL],
    ['FETCH_NETWORK', EX_TEMPFAIL],
    ['RESPONSE_UNVERIFIED', EX_TEMPFAIL],
    ['CERT_STATUS_UNKNOWN', EX_TEMPFAIL],
    ['ISSUER_NOT_FOUND', EX_TEMPFAIL],
    ['WRITE_FAILED', EX_TEMPFAIL],
    ['NO_OCSP_URL', EX_PERMANENT],
    ['CERT_EXPIRED', EX_PERMANENT],
    ['CERT_PARSE_FAILED', EX_PERMANENT],
    ['CERT_REVOKED', EX_PERMANENT],
    ['CONFIG_INVALID', EX_USAGE_OR_CONFIG],
    ['USAGE', EX_USAGE_OR_CONFIG],
  ] as const)('%s -> %i', (code, status) => {
    expect(exitStatusFor(code)).toBe(status);
  });
});
