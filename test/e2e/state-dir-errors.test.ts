// End to end: a state dir that cannot be read or written costs nothing but the state, and says so with its own codes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../helpers/run-cli.js';
import { createTestPki, makeTempDir, removeTempDir, type TestPki } from '../helpers/test-pki.js';
import { expectExitCode, jsonEvents } from './e2e-fixture.js';

let pki: TestPki;
let root: string;

beforeAll(async () => {
  pki = await createTestPki();
  root = await makeTempDir();
  // No OCSP URL: the pass succeeds without any responder, so only the state dir can go wrong.
  await pki.writeLeaf(root, await pki.issueLeaf({ commonName: 'no-ocsp.test', ocspUrls: [] }), 'fullchain', 'site');
});

afterAll(async () => {
  await removeTempDir(root);
});

describe('once with a state dir that is a regular file', () => {
  it('logs STATE_READ_FAILED and STATE_WRITE_FAILED at warn and still exits 0', async () => {
    const stateDir = path.join(root, 'state-is-a-file');
    await writeFile(stateDir, 'not a directory\n');

    const result = await runCli(['once', '--certs', root, '--state-dir', stateDir, '--log-format', 'json']);

    expectExitCode(result, 0);
    const events = jsonEvents(result.stderr);
    expect(events.filter((e) => e.event === 'state.corrupt' && String(e.file).endsWith('history.json'))).toEqual([
      expect.objectContaining({ level: 'warn', code: 'STATE_READ_FAILED' }),
    ]);
    expect(events.filter((e) => e.event === 'state.save_failed')).toEqual([expect.objectContaining({ level: 'warn', code: 'STATE_WRITE_FAILED' })]);
  });
});
