// `once` and `status` through the built binary on a certificate whose subject and file name carry terminal escape
// sequences and a newline: stdout and the log show them escaped, never raw.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../helpers/run-cli.js';
import { createE2eFixture, type E2eFixture } from './e2e-fixture.js';

/** Anything a terminal obeys: C0 except newline (lines are split on it), DEL, C1, bidi controls. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let fx: E2eFixture;
let certsDir: string;
let certFile: string;

beforeAll(async () => {
  fx = await createE2eFixture();
  certsDir = await fx.makeDir('certs');
  const leaf = await fx.issueLeaf({ commonName: 'evil\x1b[2J\x1b[31m.test' });
  // A directory named "site<ESC>[2J<newline>" holding etc/passwd.pem: printed raw, the name clears the screen and
  // starts a line reading /etc/passwd.pem.
  const hostileDir = path.join(certsDir, 'site\x1b[2J\n', 'etc');
  await mkdir(hostileDir, { recursive: true });
  certFile = (await fx.pki.writeLeaf(hostileDir, leaf, 'fullchain', 'passwd')).certFile;
});

afterAll(async () => {
  await fx?.close();
});

it('once prints the subject and file name escaped on one summary line, and the text log escapes them too', async () => {
  const result = await fx.once(['--certs', certsDir, '--log-format', 'text', '--state-dir', path.join(fx.root, 'state-once')]);

  expect(result.code).toBe(0);
  expect(result.stdout).not.toMatch(RAW_CONTROL);
  expect(result.stderr).not.toMatch(RAW_CONTROL);
  const written = result.stdout.split('\n').filter((line) => line.startsWith('written'));
  expect(written).toEqual([expect.stringContaining('CN=evil\\x1b[2J\\x1b[31m.test')]);
  expect(written[0]).toContain('site\\x1b[2J\\n/etc/passwd.pem.ocsp');
  // The newline in the directory entry forged no line that is only "/etc/passwd...".
  expect(result.stdout.split('\n').filter((line) => line.startsWith('/etc/passwd'))).toEqual([]);
  expect(certFile).toContain('\n');
});

it('status prints the subject and path escaped in the table', async () => {
  const result = await runCli(['status', '--certs', certsDir, '--state-dir', path.join(fx.root, 'state-once')], { env: fx.env });

  expect(result.code).toBe(0);
  expect(result.stdout).not.toMatch(RAW_CONTROL);
  const rows = result.stdout.split('\n').filter((line) => line.includes('evil'));
  expect(rows).toHaveLength(1);
  expect(rows[0]).toContain('site\\x1b[2J\\n/etc/passwd.pem');
  expect(rows[0]).toContain('CN=evil\\x1b[2J\\x1b[31m.test');
});
