// --on-update through the built binary: paths a failed hook never delivered reach the next `once` run's hook, from a
// state file that a damaged or planted copy cannot turn into a hook argument.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createE2eFixture, exists, type E2eFixture } from '../e2e/e2e-fixture.js';
import { expectExit, jsonEvents } from '../servers/server-fixture.js';
import { createHookRecorder } from './hook-recorder.js';

let fx: E2eFixture;
let certsDir: string;
let hooksDir: string;
let stapleFiles: string[];
let undeliveredFile: string;

beforeAll(async () => {
  fx = await createE2eFixture();
  certsDir = await fx.makeDir('certs');
  hooksDir = await fx.makeDir('hooks');
  undeliveredFile = path.join(fx.env.STATE_DIRECTORY!, 'undelivered-hook-paths.json');
  stapleFiles = [];
  for (const name of ['alpha', 'beta']) {
    const { certFile } = await fx.pki.writeLeaf(certsDir, await fx.issueLeaf({ commonName: `${name}.test` }), 'fullchain', name);
    stapleFiles.push(`${certFile}.ocsp`);
  }
  stapleFiles.sort();
});

afterAll(async () => {
  await fx?.close();
});

const once = (...extra: string[]) => fx.once(['--certs', certsDir, '--log-format', 'json', ...extra]);

describe('--on-update paths a failed hook did not deliver', () => {
  it('are kept in the state dir after a hook that exits non-zero, and handed to the next once run that changes nothing', async () => {
    const failed = await once('--on-update', `sh -c 'exit 1'`);
    expectExit(failed, 0);
    expect(jsonEvents(failed).filter((e) => e.event === 'hook.update_failed').map((e) => e.code)).toEqual(['HOOK_FAILED']);
    expect(JSON.parse(await readFile(undeliveredFile, 'utf8'))).toEqual({ version: 1, paths: stapleFiles });

    const recorder = await createHookRecorder(hooksDir, 'carried');
    const next = await once('--on-update', recorder.command());

    expectExit(next, 0);
    // Nothing changed in this run (the staples are fresh): the hook ran for the carried paths alone.
    expect(jsonEvents(next).filter((e) => e.event === 'staple.written')).toEqual([]);
    expect((await recorder.runs()).map((run) => run.changedFileEntries)).toEqual([stapleFiles]);
    expect(await exists(undeliveredFile)).toBe(false);

    // Delivered: a third run has nothing to tell.
    expectExit(await once('--on-update', recorder.command()), 0);
    expect(await recorder.runs()).toHaveLength(1);
  });

  it('are carried after a hook timeout too', async () => {
    const timedOut = await once('--force', '--on-update', 'sleep 30', '--hook-timeout', '1');
    expectExit(timedOut, 0);
    expect(jsonEvents(timedOut).filter((e) => e.event === 'hook.update_failed').map((e) => e.code)).toEqual(['HOOK_TIMEOUT']);
    expect(JSON.parse(await readFile(undeliveredFile, 'utf8'))).toMatchObject({ paths: stapleFiles });
  });

  it.each([
    { what: 'a path that is not absolute', text: JSON.stringify({ version: 1, paths: ['etc/passwd'] }), mode: 0o600 },
    { what: 'not JSON', text: '{"version": 1, "paths": [', mode: 0o600 },
    { what: 'writable by others', text: JSON.stringify({ version: 1, paths: ['/etc/passwd'] }), mode: 0o666 },
  ])('ignore a state file holding $what (STATE_CORRUPT), and the hook is not run for it', async ({ text, mode }) => {
    await writeFile(undeliveredFile, text);
    await chmod(undeliveredFile, mode);
    const recorder = await createHookRecorder(hooksDir, `hostile-${mode}-${text.length}`);

    const result = await once('--on-update', recorder.command());

    expectExit(result, 0);
    const corrupt = jsonEvents(result).filter((e) => e.event === 'state.corrupt');
    expect(corrupt.map((e) => ({ code: e.code, file: e.file }))).toEqual([{ code: 'STATE_CORRUPT', file: undeliveredFile }]);
    expect(await recorder.runs()).toEqual([]);
  });
});
