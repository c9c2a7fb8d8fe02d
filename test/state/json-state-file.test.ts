// The state directory's versioned JSON files: what a read returns, and which code a bad file is refused with.
import { describe, it, expect } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readJsonStateFile, STATE_FORMAT_VERSION, writeJsonStateFile } from '../../src/state/json-state-file.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();

async function stateFile(): Promise<string> {
  const stateDir = await makeTempDir('staplerd-json-state-');
  dirs.push(stateDir);
  return path.join(stateDir, 'some-state.json');
}

describe('readJsonStateFile / writeJsonStateFile', () => {
  it('reads back what was written, with the format version added', async () => {
    const file = await stateFile();
    await writeJsonStateFile(file, { staples: ['a', 'b'] });
    expect(await readJsonStateFile(file)).toEqual({ version: STATE_FORMAT_VERSION, staples: ['a', 'b'] });
    expect((await readFile(file, 'utf8')).endsWith('\n')).toBe(true);
  });

  it('returns undefined for a missing file (a first start)', async () => {
    expect(await readJsonStateFile(await stateFile())).toBeUndefined();
  });

  it.each([
    ['not JSON', '{"version": 1,'],
    ['another format version', '{"version": 2, "staples": []}'],
    ['no version', '{"staples": []}'],
    ['JSON that is not an object', '[1]'],
  ])('refuses %s as STATE_CORRUPT naming the file', async (_name, content) => {
    const file = await stateFile();
    await writeFile(file, content);
    await expect(readJsonStateFile(file)).rejects.toMatchObject({ code: 'STATE_CORRUPT', file });
  });

  it('refuses a FIFO in its place as STATE_CORRUPT without waiting for a writer', async () => {
    const file = await stateFile();
    execFileSync('mkfifo', [file]);
    await expect(readJsonStateFile(file)).rejects.toMatchObject({ code: 'STATE_CORRUPT', file });
  });

  it('reports a file that cannot be read as STATE_READ_FAILED (it may be fine later)', async () => {
    const notADirectory = await stateFile();
    await writeFile(notADirectory, 'x');
    const file = path.join(notADirectory, 'history.json');
    await expect(readJsonStateFile(file)).rejects.toMatchObject({ code: 'STATE_READ_FAILED', file });
  });
});
