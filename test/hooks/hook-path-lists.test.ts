// The lists a hook gets: capped, unforgeable line variables with counts, and an exact NUL-separated private file.
import { describe, expect, it } from '@jest/globals';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { buildLineVariables, encodeNulList, isLineSafe, MAX_LINE_VARIABLE_BYTES, prepareHookLists } from '../../src/hooks/hook-path-lists.js';
import { exists } from '../e2e/e2e-fixture.js';

describe('buildLineVariables', () => {
  it('lists every name one per line with its count when all are plain', () => {
    expect(buildLineVariables('STAPLERD_CHANGED', ['/c/a.ocsp', '/c/b.ocsp'])).toEqual({
      STAPLERD_CHANGED: '/c/a.ocsp\n/c/b.ocsp',
      STAPLERD_CHANGED_COUNT: '2',
      STAPLERD_CHANGED_OMITTED: '0',
    });
  });

  it('leaves out a name holding a newline (which would forge a line reading /etc/passwd) and counts it', () => {
    const vars = buildLineVariables('STAPLERD_CHANGED', ['/c/dir\n/etc/passwd', '/c/ok.ocsp']);
    expect(vars).toEqual({ STAPLERD_CHANGED: '/c/ok.ocsp', STAPLERD_CHANGED_COUNT: '2', STAPLERD_CHANGED_OMITTED: '1' });
    expect(vars.STAPLERD_CHANGED!.split('\n')).not.toContain('/etc/passwd');
  });

  it.each([
    ['carriage return', 'a\rb'],
    ['ESC', 'a\x1b[2Jb'],
    ['DEL', 'a\x7fb'],
    ['a C1 control (NEL)', 'a\u0085b'],
    ['the Unicode line separator', 'a\u2028b'],
    ['U+FFFD (bytes that were not UTF-8)', 'a\ufffdb'],
  ])('treats a name with %s as not line-safe', (_what, name) => {
    expect(isLineSafe(name)).toBe(false);
  });

  it('stops before the byte cap and counts the rest as omitted', () => {
    const items = Array.from({ length: 2000 }, (_, i) => `/srv/${'d'.repeat(100)}/site-${String(i).padStart(4, '0')}.pem.ocsp`);

    const vars = buildLineVariables('STAPLERD_CHANGED', items);

    const lines = vars.STAPLERD_CHANGED!.split('\n');
    expect(Buffer.byteLength(vars.STAPLERD_CHANGED!)).toBeLessThanOrEqual(MAX_LINE_VARIABLE_BYTES);
    expect(lines).toEqual(items.slice(0, lines.length));
    expect({ count: vars.STAPLERD_CHANGED_COUNT, omitted: Number(vars.STAPLERD_CHANGED_OMITTED) }).toEqual({ count: '2000', omitted: 2000 - lines.length });
    expect(lines.length).toBeLessThan(2000);
  });
});

describe('encodeNulList', () => {
  it('ends every name with a NUL, so names holding newlines come back exactly', () => {
    const names = ['/c/dir\n/etc/passwd', '/c/ok.ocsp'];
    expect(encodeNulList(names)).toBe('/c/dir\n/etc/passwd\0/c/ok.ocsp\0');
    expect(encodeNulList(names).split('\0').slice(0, -1)).toEqual(names);
  });
});

describe('prepareHookLists', () => {
  it('writes each list to a 0600 file in a private 0700 directory, named by NAME_FILE, and removes them', async () => {
    const lists = await prepareHookLists({ STAPLERD_REVOKED: ['/c/a\n.pem'], STAPLERD_REVOKED_SERIALS: ['0a1b'] });
    const file = lists.env.STAPLERD_REVOKED_FILE!;
    try {
      expect(await readFile(file, 'utf8')).toBe('/c/a\n.pem\0');
      expect(await readFile(lists.env.STAPLERD_REVOKED_SERIALS_FILE!, 'utf8')).toBe('0a1b\0');
      expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
      expect(((await stat(path.dirname(file))).mode & 0o777).toString(8)).toBe('700');
      expect(lists.env).toMatchObject({ STAPLERD_REVOKED: '', STAPLERD_REVOKED_COUNT: '1', STAPLERD_REVOKED_OMITTED: '1', STAPLERD_REVOKED_SERIALS: '0a1b' });
    } finally {
      await lists.remove();
    }
    expect(await exists(path.dirname(file))).toBe(false);
  });
});
