// ERROR_CODES: one row per condition, each a complete decision (level, retry, exit status) with its own meaning.
import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES, isErrorCode, policyForCode, type ErrorCode } from '../../src/errors/index.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe('ERROR_CODES', () => {
  it('gives each code its own meaning: no two rows share a summary', () => {
    const summaries = CODES.map((code) => ERROR_CODES[code].summary);
    expect(summaries.filter((summary, index) => summaries.indexOf(summary) !== index)).toEqual([]);
  });

  it.each(CODES)('decides a level, a retry and an exit status for %s', (code) => {
    const policy = policyForCode(code);
    expect(['error', 'warn', 'info']).toContain(policy.level);
    expect(typeof policy.retry).toBe('boolean');
    expect([0, 1, 2]).toContain(policy.exitCode);
  });

  it('spells every code in capitals and underscores, as logs, metrics labels and docs/cli.md use it', () => {
    expect(CODES.filter((code) => !/^[A-Z][A-Z_]*[A-Z]$/.test(code))).toEqual([]);
  });

  it('knows its own codes and nothing else', () => {
    expect(CODES.every((code) => isErrorCode(code))).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('write_failed')).toBe(false);
  });
});
