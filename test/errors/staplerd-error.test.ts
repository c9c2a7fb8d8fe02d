// StaplerdError helpers: toStaplerdError keeps a code, recodeError replaces it (the caller knows what failed).
import { describe, expect, it } from '@jest/globals';
import { recodeError, StaplerdError, toStaplerdError } from '../../src/errors/index.js';

describe('recodeError', () => {
  it('gives a state save that failed inside the atomic write its own code, keeping message, file and cause', () => {
    const inner = new StaplerdError('WRITE_FAILED', 'cannot write /state/history.json: EROFS', { file: '/state/history.json' });
    const recoded = recodeError(inner, 'STATE_WRITE_FAILED', { file: '/state' });
    expect(recoded).toMatchObject({ code: 'STATE_WRITE_FAILED', message: inner.message, file: '/state/history.json' });
    expect(recoded.cause).toBe(inner);
  });

  it('names the context file and URL when the thrown value knew none', () => {
    const recoded = recodeError(new Error('EACCES'), 'REMOVE_FAILED', { file: '/certs/a.pem.ocsp' });
    expect(recoded).toMatchObject({ code: 'REMOVE_FAILED', message: 'EACCES', file: '/certs/a.pem.ocsp' });
  });

  it('keeps the Retry-After of an HTTP failure', () => {
    const inner = new StaplerdError('FETCH_HTTP_STATUS', 'HTTP 503', { url: 'http://ocsp.test/', retryAfterSeconds: 120 });
    expect(recodeError(inner, 'INTERNAL')).toMatchObject({ code: 'INTERNAL', url: 'http://ocsp.test/', retryAfterSeconds: 120 });
  });
});

describe('toStaplerdError', () => {
  it('keeps the code of a StaplerdError (unlike recodeError)', () => {
    const inner = new StaplerdError('WRITE_FAILED', 'x');
    expect(toStaplerdError(inner, 'STATE_WRITE_FAILED')).toBe(inner);
  });
});
