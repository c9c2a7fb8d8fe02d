// --on-update through the built binary when a certificate directory's name holds a newline followed by /etc/passwd:
// the hook's line variable cannot be forged, and STAPLERD_CHANGED_FILE names every staple exactly.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createE2eFixture, exists, type E2eFixture } from '../e2e/e2e-fixture.js';
import { expectExit, jsonEvents } from '../servers/server-fixture.js';
import { createHookRecorder } from './hook-recorder.js';

let fx: E2eFixture;

beforeAll(async () => {
  fx = await createE2eFixture();
});

afterAll(async () => {
  await fx?.close();
});

it('leaves the staple under "evil\\n/etc/passwd" out of STAPLERD_CHANGED, counts it, and lists it exactly in a private 0600 file removed afterwards', async () => {
  const certsDir = await fx.makeDir('certs');
  const hooksDir = await fx.makeDir('hooks');
  // certs/evil<newline>/etc/passwd.pem: its staple path, printed one per line, has a line that is exactly /etc/passwd.pem.ocsp.
  const hostileDir = path.join(certsDir, 'evil\n', 'etc');
  await mkdir(hostileDir, { recursive: true });
  const hostile = (await fx.pki.writeLeaf(hostileDir, await fx.issueLeaf({ commonName: 'evil.test' }), 'fullchain', 'passwd')).certFile;
  const plain = (await fx.pki.writeLeaf(certsDir, await fx.issueLeaf({ commonName: 'plain.test' }), 'fullchain', 'plain')).certFile;
  const recorder = await createHookRecorder(hooksDir, 'hostile');

  const result = await fx.once(['--certs', certsDir, '--log-format', 'json', '--state-dir', path.join(fx.root, 'state'), '--on-update', recorder.command()]);

  expectExit(result, 0);
  const runs = await recorder.runs();
  expect(runs).toHaveLength(1);
  const run = runs[0]!;
  expect(run).toMatchObject({ event: 'update', changed: `${plain}.ocsp`, changedCount: '2', changedOmitted: '1', changedFileMode: '600', changedDirMode: '700' });
  expect(run.changed!.split('\n')).not.toContain('/etc/passwd.pem.ocsp');
  expect(run.changedFileEntries).toEqual([`${hostile}.ocsp`, `${plain}.ocsp`].sort());
  expect(await exists(run.changedFile!)).toBe(false);
  expect(jsonEvents(result).filter((e) => String(e.event).startsWith('hook.')).map((e) => e.event)).toEqual(['hook.update']);
});
