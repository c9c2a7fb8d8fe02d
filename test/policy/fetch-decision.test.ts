// Whether a pass fetches for a certificate, keeps its staples, or waits out a failure.
import { describe, expect, it } from '@jest/globals';
import { decideFetch, type FetchDecisionInput } from '../../src/policy/index.js';

const NOW = new Date('2025-05-01T12:00:00Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);
const input = (extra: Partial<FetchDecisionInput>): FetchDecisionInput => ({ now: NOW, force: false, currentInput: 'http://ocsp.test', ...extra });

describe('decideFetch', () => {
  it('keeps valid staples until their refresh instant', () => {
    expect(decideFetch(input({ refreshAt: later(60_000) }))).toEqual({ action: 'keep', until: later(60_000), refreshAt: later(60_000) });
  });

  it('fetches once the refresh instant is reached', () => {
    expect(decideFetch(input({ refreshAt: NOW }))).toEqual({ action: 'fetch' });
  });

  it('fetches when not every file holds a valid staple (no refresh instant given)', () => {
    expect(decideFetch(input({}))).toEqual({ action: 'fetch' });
  });

  it('waits out the pause after a stale answer even though the refresh instant has passed', () => {
    const history = { consecutiveFailures: 0, nextAttemptAt: later(30_000) };
    expect(decideFetch(input({ refreshAt: later(-1), history }))).toEqual({ action: 'keep', until: later(30_000), refreshAt: later(-1) });
  });

  it('waits during a failure backoff and fetches after it', () => {
    const history = { consecutiveFailures: 2, nextAttemptAt: later(30_000), lastErrorCode: 'FETCH_TIMEOUT' as const };
    expect(decideFetch(input({ history }))).toEqual({ action: 'wait', awaitingChange: false });
    expect(decideFetch(input({ history, now: later(30_000) }))).toEqual({ action: 'fetch' });
  });

  it('waits for the input to change after a failure time cannot heal, and fetches once it does', () => {
    const history = { consecutiveFailures: 1, lastErrorCode: 'URL_UNSUPPORTED' as const, failedInput: 'ftp://ocsp.test' };
    expect(decideFetch(input({ history, currentInput: 'ftp://ocsp.test' }))).toEqual({ action: 'wait', awaitingChange: true });
    expect(decideFetch(input({ history, currentInput: 'http://ocsp.test' }))).toEqual({ action: 'fetch' });
  });

  it('fetches when forced, whatever the schedule and the failures say', () => {
    const history = { consecutiveFailures: 3, nextAttemptAt: later(30_000), lastErrorCode: 'FETCH_TIMEOUT' as const };
    expect(decideFetch(input({ force: true, refreshAt: later(60_000), history }))).toEqual({ action: 'fetch' });
  });
});
