// `staplerd once` on a terminal (a pseudo-terminal from util-linux `script`): progress bar and summary table; without
// a terminal neither, only the summary lines and the log.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI_PATH } from '../helpers/run-cli.js';
import { createE2eFixture, type E2eFixture } from './e2e-fixture.js';

const SCRIPT = '/usr/bin/script';
const run = promisify(execFile);
/** Certificates processed one at a time against a hanging responder with a 1 s timeout: a pass of about 3 s, long
 *  enough for the bar (shown only for passes over 0.5 s). */
const CERT_COUNT = 3;
const ANSI_ESCAPE = '\u001b[';

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

let fx: E2eFixture;
let certsDir: string;

beforeAll(async () => {
  fx = await createE2eFixture();
  certsDir = await fx.makeDir('certs');
  for (let i = 0; i < CERT_COUNT; i++) {
    await fx.pki.writeLeaf(certsDir, await fx.issueLeaf({ commonName: `tty-${i}.test` }), 'fullchain', `tty-${i}`);
  }
});

afterAll(async () => {
  await fx?.close();
});

const args = (): string[] => ['once', '--certs', certsDir, '--concurrency', '1', '--timeout', '1', '--force'];

(existsSync(SCRIPT) ? describe : describe.skip)('staplerd once on a terminal', () => {
  it('shows a progress bar during a long pass and an aligned, coloured status table at the end', async () => {
    fx.responder.setFault('hang');
    try {
      const command = [process.execPath, CLI_PATH, ...args()].map(shellQuote).join(' ');
      // script gives the command a pseudo-terminal for stdin, stdout and stderr, and copies what it printed.
      const { stdout: terminal } = await run(SCRIPT, ['-qec', command, '/dev/null'], {
        env: { ...process.env, ...fx.env, NODE_OPTIONS: '', TERM: 'xterm', COLUMNS: '200' },
        timeout: 30_000,
      }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));

      expect(terminal).toContain('staplerd once [');
      expect(terminal).toMatch(new RegExp(`\\d/${CERT_COUNT} certificates`));
      // The table after the summary: one row per certificate, state failing, coloured only because this is a TTY.
      for (let i = 0; i < CERT_COUNT; i++) expect(terminal).toContain(path.join(certsDir, `tty-${i}.pem`));
      expect(terminal).toMatch(/failing/);
      expect(terminal).toContain(ANSI_ESCAPE);
    } finally {
      fx.responder.setFault('none');
    }
  });
});

describe('staplerd once without a terminal', () => {
  it('prints neither a bar nor the table: summary lines on stdout, log lines on stderr, no escape codes', async () => {
    fx.responder.setFault('hang');
    try {
      const result = await run(process.execPath, [CLI_PATH, ...args()], { env: { ...process.env, ...fx.env, NODE_OPTIONS: '' }, timeout: 30_000 }).catch(
        (error: { stdout: string; stderr: string }) => error,
      );
      expect(result.stdout + result.stderr).not.toContain('staplerd once [');
      expect(result.stdout + result.stderr).not.toContain(ANSI_ESCAPE);
      expect(result.stdout).toMatch(new RegExp(`^failed +${path.join(certsDir, 'tty-0.pem')}: FETCH_TIMEOUT`, 'm'));
    } finally {
      fx.responder.setFault('none');
    }
  });
});
