// The event logger: one JSON object per line for machines, one readable line for people, both with the event name.
import { describe, it, expect } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { createLogger, createMemoryLogger, type LogFormat, type LoggerLevel } from '../../src/log/index.js';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Logs through a real winston logger into memory and returns the lines written. */
async function capture(format: LogFormat, level: LoggerLevel, write: (log: ReturnType<typeof createLogger>['log']) => void): Promise<string[]> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const logger = createLogger({ format, level, stream });
  write(logger.log.bind(logger));
  await logger.close();
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '');
}

describe('createLogger json format', () => {
  it('writes one JSON object per event with level, event, message, fields and an ISO timestamp', async () => {
    const lines = await capture('json', 'info', (log) => {
      log('warn', 'fetch.failed', 'responder unreachable', {
        file: '/etc/ssl/a.pem',
        code: 'FETCH_NETWORK',
        nextUpdate: new Date('2031-03-02T12:00:00Z'),
        attempts: 2,
        skipped: undefined,
      });
    });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 'warn',
      event: 'fetch.failed',
      message: 'responder unreachable',
      file: '/etc/ssl/a.pem',
      code: 'FETCH_NETWORK',
      nextUpdate: '2031-03-02T12:00:00.000Z',
      attempts: 2,
    });
    expect(entry).not.toHaveProperty('skipped');
    expect(entry.timestamp).toMatch(ISO_INSTANT);
  });

  it('keeps a hostile message and field on one line, with no raw ESC, C1 or bidi control, and parses back exactly', async () => {
    const message = 'refused: \n2026-12-01T22:00:00.000Z error cert.revoked: forged \x1b[2J\u009b31m\u202e';
    const lines = await capture('json', 'info', (log) => log('warn', 'haproxy.push_failed', message, { staple: '/c/\x1b]0;x\x07.ocsp' }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ message, staple: '/c/\x1b]0;x\x07.ocsp' });
  });

  it('drops events below the configured level', async () => {
    const lines = await capture('json', 'warn', (log) => {
      log('debug', 'staple.fresh', 'fresh');
      log('info', 'staple.written', 'written');
      log('warn', 'fetch.failed', 'failed');
      log('error', 'cert.revoked', 'revoked');
    });
    expect(lines.map((line) => (JSON.parse(line) as { event: string }).event)).toEqual(['fetch.failed', 'cert.revoked']);
  });

  it('tells which levels it writes, so callers can skip building a dropped event', async () => {
    const levels: LoggerLevel[] = ['error', 'warn', 'info', 'debug'];
    const atInfo = createLogger({ level: 'info', format: 'json', stream: new PassThrough() });
    const atDebug = createLogger({ level: 'debug', format: 'json', stream: new PassThrough() });
    expect(levels.map((level) => atInfo.isEnabled(level))).toEqual([true, true, true, false]);
    expect(levels.map((level) => atDebug.isEnabled(level))).toEqual([true, true, true, true]);
    await Promise.all([atInfo.close(), atDebug.close()]);
  });

  it('writes debug events when the level is debug', async () => {
    const lines = await capture('json', 'debug', (log) => log('debug', 'staple.fresh', 'fresh'));
    expect(lines).toHaveLength(1);
  });
});

describe('createLogger text format', () => {
  it('writes the timestamp, level, event and message, then key=value fields', async () => {
    const lines = await capture('text', 'info', (log) => {
      log('info', 'staple.written', 'staple written (good)', { staple: '/etc/ssl/a.pem.ocsp', thisUpdate: new Date('2031-03-01T11:59:00Z'), count: 3 });
    });
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    const [timestamp] = line.split(' ');
    expect(timestamp).toMatch(ISO_INSTANT);
    expect(line).toContain('info  staple.written: staple written (good)');
    expect(line).toContain('staple=/etc/ssl/a.pem.ocsp');
    expect(line).toContain('thisUpdate=2031-03-01T11:59:00.000Z');
    expect(line).toContain('count=3');
  });

  it('quotes values with spaces so a line splits back into its fields', async () => {
    const lines = await capture('text', 'info', (log) => log('error', 'cert.invalid', 'bad file', { file: '/etc/my certs/a.pem', subject: 'CN=a' }));
    expect(lines[0]).toContain('file="/etc/my certs/a.pem"');
    expect(lines[0]).toContain('subject=CN=a');
  });

  it('escapes a message that would forge a second log line (a HAProxy reply ending in a fake cert.revoked)', async () => {
    const lines = await capture('text', 'info', (log) =>
      log('warn', 'haproxy.push_failed', 'refused the staple: nope\n2026-12-01T22:00:00.000Z error cert.revoked: example.com is revoked'),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('refused the staple: nope\\n2026-12-01T22:00:00.000Z error cert.revoked');
    expect(lines.filter((line) => / error +cert\.revoked/.test(line.slice(0, 40)))).toEqual([]);
  });

  it('escapes terminal escape sequences, C1 and bidi controls in the message and in every field value', async () => {
    const lines = await capture('text', 'info', (log) =>
      log('error', 'cert.invalid', 'bad \x1b[2J\u009b31m file', { file: '/certs/\x1b]0;pwned\x07\n/etc/passwd', subject: 'CN=a\u202egnp.test', extra: { cn: '\x1b[31m' } }),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(lines[0]).toContain('bad \\x1b[2J\\x9b31m file');
    expect(lines[0]).toContain('file=/certs/\\x1b]0;pwned\\x07\\n/etc/passwd');
    expect(lines[0]).toContain('subject=CN=a\\u202egnp.test');
  });
});

describe('createMemoryLogger', () => {
  it('records events in order with their fields', () => {
    const logger = createMemoryLogger();
    logger.log('info', 'a', 'first', { x: 1 });
    logger.log('error', 'b', 'second');
    expect(logger.events).toEqual([
      { level: 'info', event: 'a', message: 'first', fields: { x: 1 } },
      { level: 'error', event: 'b', message: 'second', fields: {} },
    ]);
  });
});
