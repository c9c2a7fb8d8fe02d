// Exit statuses come from the exit column of ERROR_CODES; an error that ends a command never exits 0.
import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { exitStatusOfFailure, reportFatalError } from '../../src/cli/exit-codes.js';
import { ERROR_CODES, StaplerdError, type ErrorCode } from '../../src/errors/index.js';

const CODES = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => ({ code, exit: ERROR_CODES[code].exitCode }));

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

describe('exitStatusOfFailure', () => {
  it.each(CODES.filter((c) => c.exit !== 0))('exits $exit for a command ended by $code, as its row says', ({ code, exit }) => {
    expect(exitStatusOfFailure(code)).toBe(exit);
  });

  it.each(CODES.filter((c) => c.exit === 0))('exits 1, not 0, when $code (a row that never fails a pass) ends a command', ({ code }) => {
    expect(exitStatusOfFailure(code)).toBe(1);
  });
});

describe('reportFatalError', () => {
  it('prints the code, message and file, and returns the code\'s exit status', () => {
    const stderr = sink();
    const status = reportFatalError(new StaplerdError('METRICS_LISTEN_FAILED', 'cannot listen for metrics on 127.0.0.1:1: EACCES'), stderr);
    expect(status).toBe(2);
    expect(stderr.text).toBe('staplerd: METRICS_LISTEN_FAILED: cannot listen for metrics on 127.0.0.1:1: EACCES\n');
  });

  it('escapes control characters of the message and file, so a hostile name cannot add a line or drive the terminal', () => {
    const stderr = sink();
    reportFatalError(new StaplerdError('USAGE', 'cannot read x\nstaplerd: OK: all good\x1b[2J', { file: '/tmp/a\u202eb' }), stderr);
    expect(stderr.text.split('\n')).toHaveLength(2);
    expect(stderr.text).not.toMatch(/[\x1b\u202e]/);
    expect(stderr.text).toContain('\\nstaplerd: OK: all good\\x1b[2J');
  });
});
