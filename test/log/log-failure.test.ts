// logFailure: the level of every failure comes from its code's row in ERROR_CODES, must-staple raises it to error.
import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES, StaplerdError, type ErrorCode } from '../../src/errors/index.js';
import { chooseFailureLevel, createMemoryLogger, logFailure } from '../../src/log/index.js';

const CODES = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => ({ code, level: ERROR_CODES[code].level }));

describe('logFailure', () => {
  it.each(CODES)('logs $code at its table level ($level)', ({ code, level }) => {
    const logger = createMemoryLogger();
    logFailure(logger, 'some.failed', new StaplerdError(code, 'went wrong'));
    expect(logger.events).toEqual([expect.objectContaining({ level, event: 'some.failed', message: 'went wrong', fields: expect.objectContaining({ code }) })]);
  });

  it.each(CODES)('logs $code at error for a must-staple certificate', ({ code }) => {
    expect(chooseFailureLevel({ code }, { mustStaple: true })).toBe('error');
  });

  it('names the file and URL of the error, and lets the caller name the file it knows better', () => {
    const logger = createMemoryLogger();
    const error = new StaplerdError('FETCH_TIMEOUT', 'slow', { file: '/certs/a.pem', url: 'http://ocsp.test/' });
    logFailure(logger, 'fetch.failed', error, { serial: '0a' });
    logFailure(logger, 'fetch.failed', error, { file: '/certs/a.pem, /certs/b.pem' });
    expect(logger.events.map((e) => e.fields)).toEqual([
      expect.objectContaining({ file: '/certs/a.pem', url: 'http://ocsp.test/', serial: '0a', code: 'FETCH_TIMEOUT' }),
      expect.objectContaining({ file: '/certs/a.pem, /certs/b.pem', url: 'http://ocsp.test/' }),
    ]);
  });

  it('uses the caller\'s message when it says what happens next, keeping the code', () => {
    const logger = createMemoryLogger();
    logFailure(logger, 'fetch.attempt_failed', new StaplerdError('FETCH_NETWORK', 'refused'), {}, { message: 'refused; trying the next responder URL' });
    expect(logger.events[0]).toMatchObject({ level: 'warn', message: 'refused; trying the next responder URL', fields: { code: 'FETCH_NETWORK' } });
  });
});
