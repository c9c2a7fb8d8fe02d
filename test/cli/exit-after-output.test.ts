// The CLI exits as soon as its command is done (src/cli/main.ts), but never before its output has reached a reader
// that is slow to read it: a pipe holds 64 KiB, and what does not fit waits in Node's queue.
import { describe, it, expect } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';
import { CLI_PATH } from '../helpers/run-cli.js';

const dirs = removeTempDirsAfterAll();

/** `staplerd ... | { sleep 1; cat; }`: the reader starts reading a second after staplerd has finished; pipefail gives
 *  staplerd's exit status. */
function runBehindSlowReader(args: readonly string[]): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const script = 'set -o pipefail; "$0" "$@" | { sleep 1; cat; }';
    const child = spawn('bash', ['-c', script, process.execPath, CLI_PATH, ...args], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, code }));
  });
}

describe('staplerd exiting', () => {
  it('hands a slow reader all of an output longer than a pipe holds', async () => {
    const dir = await makeTempDir('staplerd-exit-');
    dirs.push(dir);
    const certs = path.join(dir, 'certs');
    await mkdir(certs);
    // 200 unparsable files: a status of about 100 KB, far more than the 64 KiB a pipe holds.
    await Promise.all(Array.from({ length: 200 }, (_, index) =>
      writeFile(path.join(certs, `bad-${index}.pem`), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')));

    const { stdout, code } = await runBehindSlowReader(['status', '--json', '--certs', certs, '--state-dir', path.join(dir, 'state')]);

    expect(stdout.length).toBeGreaterThan(64 * 1024);
    const status = JSON.parse(stdout) as { certificates: unknown[] };
    expect(status.certificates).toHaveLength(200);
    // `status` reports failing certificates; it does not fail itself.
    expect(code).toBe(0);
  });
});
