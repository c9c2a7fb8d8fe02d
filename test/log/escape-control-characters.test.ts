// The one escaping function behind the text log, the `once` summary and the `status` table.
import { describe, expect, it } from '@jest/globals';
import { escapeControlCharacters, escapeJsonLine } from '../../src/log/index.js';

describe('escapeControlCharacters', () => {
  it('leaves printable text, spaces and non-ASCII letters as they are', () => {
    expect(escapeControlCharacters('/etc/ssl/my certs/café.pem CN=ünïcode.test')).toBe('/etc/ssl/my certs/café.pem CN=ünïcode.test');
  });

  it('escapes newline, carriage return and tab so one value stays on one line', () => {
    expect(escapeControlCharacters('a\nb\rc\td')).toBe('a\\nb\\rc\\td');
  });

  it('escapes ESC, BEL, DEL and C1 controls (CSI 0x9b) as \\xHH', () => {
    expect(escapeControlCharacters('x\x1b[2J\x07\x7f\u009b31my')).toBe('x\\x1b[2J\\x07\\x7f\\x9b31my');
  });

  it('escapes bidi overrides and isolates, and the Unicode line separators', () => {
    expect(escapeControlCharacters('a\u202eb\u2066c\u2069d\u2028e')).toBe('a\\u202eb\\u2066c\\u2069d\\u2028e');
  });

  it('escapes a backslash that could start an escape, so a name holding "\\n" never reads like one holding a newline', () => {
    expect(escapeControlCharacters('a\\nb')).not.toBe(escapeControlCharacters('a\nb'));
    expect(escapeControlCharacters('a\\nb')).toBe('a\\\\nb');
    expect(escapeControlCharacters('a\\x1b')).not.toBe(escapeControlCharacters('a\x1b'));
    expect(escapeControlCharacters('a\\\x1b')).toBe('a\\\\\\x1b');
    expect(escapeControlCharacters('ends\\')).toBe('ends\\\\');
  });

  it('leaves the backslashes of an RFC 4514 subject alone', () => {
    expect(escapeControlCharacters('CN=shop.example,O=Example\\, Inc.')).toBe('CN=shop.example,O=Example\\, Inc.');
  });
});

describe('escapeJsonLine', () => {
  it('escapes DEL, C1 and bidi controls that JSON.stringify leaves raw, and the line still parses to the same value', () => {
    const value = { file: 'a\u009b2J\u202e\x7f.pem' };
    const line = escapeJsonLine(JSON.stringify(value));
    expect(line).toBe('{"file":"a\\u009b2J\\u202e\\u007f.pem"}');
    expect(JSON.parse(line)).toEqual(value);
  });
});
