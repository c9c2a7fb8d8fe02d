// `staplerd once` through the built binary with an --on-update hook the kernel refuses to exec (E2BIG): the failure
// is logged as HOOK_FAILED, the staple and the pass's state are saved, and the exit status is the pass's own.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createE2eFixture, exists, type E2eFixture } from '../e2e/e2e-fixture.js';
import { expectExit, jsonEvents } from '../servers/server-fixture.js';

let fx: E2eFixture;

beforeAll(async () => {
  fx = await createE2eFixture();
});

afterAll(async () => {
  await fx?.close();
});

it('logs HOOK_FAILED for a hook exec refuses with E2BIG, saves the state and exits 0', async () => {
  const certsDir = await fx.makeDir('certs');
  const stateDir = path.join(fx.root, 'state-e2big');
  const { certFile } = await fx.pki.writeLeaf(certsDir, await fx.issueLeaf({ commonName: 'e2big.test' }), 'fullchain', 'e2big');
  // One argument over Linux's 128 KiB per-string limit (MAX_ARG_STRLEN): staplerd starts, the hook cannot. A YAML
  // list is argv word for word, so the word reaches spawn as it is.
  const configFile = path.join(fx.root, 'e2big.yaml');
  await writeFile(configFile, `onUpdate: ["true", "${'x'.repeat(200 * 1024)}"]\n`);

  const result = await fx.once(['--config', configFile, '--certs', certsDir, '--state-dir', stateDir, '--log-format', 'json']);

  expectExit(result, 0);
  expect(jsonEvents(result).filter((e) => String(e.event).startsWith('hook.')).map((e) => [e.event, e.code, /E2BIG/.test(String(e.message))])).toEqual([
    ['hook.update_failed', 'HOOK_FAILED', true],
  ]);
  expect(await exists(`${certFile}.ocsp`)).toBe(true);
  // The pass's history (the certificate's refresh plan) reached the state dir.
  const history = JSON.parse(await readFile(path.join(stateDir, 'history.json'), 'utf8')) as { certificates: Record<string, unknown> };
  expect(Object.keys(history.certificates)).toHaveLength(1);
});
