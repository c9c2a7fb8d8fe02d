// runHook with real spawned commands: it resolves for every failure, spawn errors included, and hands over path lists.
import { describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runHook } from '../../src/hooks/run-hook.js';
import { exists } from '../e2e/e2e-fixture.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();

describe('runHook', () => {
  it('resolves with HOOK_FAILED, not a thrown E2BIG, when one environment string is over Linux 128 KiB limit', async () => {
    const result = await runHook(['true'], { env: { STAPLERD_HUGE: 'x'.repeat(200 * 1024) }, timeoutMs: 5000 });

    expect(result).toMatchObject({ ok: false, started: false, code: 'HOOK_FAILED', message: expect.stringContaining('E2BIG') });
  });

  it('resolves with HOOK_FAILED and started false when the command does not exist', async () => {
    const result = await runHook(['/nonexistent/staplerd-hook'], { env: {}, timeoutMs: 5000 });

    expect(result).toMatchObject({ ok: false, started: false, code: 'HOOK_FAILED' });
  });

  it('says the hook started when it ran and failed', async () => {
    const result = await runHook(['sh', '-c', 'exit 4'], { env: {}, timeoutMs: 5000 });

    expect(result).toMatchObject({ ok: false, started: true, code: 'HOOK_FAILED', exitCode: 4 });
  });

  it('hands a list to the hook as NAME_FILE (NUL-separated, exact) and NAME lines, and removes the file after', async () => {
    const dir = await makeTempDir('staplerd-run-hook-');
    dirs.push(dir);
    const out = path.join(dir, 'received.json');
    const script = path.join(dir, 'hook.cjs');
    await writeFile(
      script,
      `const fs = require('node:fs');
const env = process.env;
fs.writeFileSync(process.argv[2], JSON.stringify({ file: env.STAPLERD_CHANGED_FILE, entries: fs.readFileSync(env.STAPLERD_CHANGED_FILE, 'utf8').split('\\0'), lines: env.STAPLERD_CHANGED, count: env.STAPLERD_CHANGED_COUNT, omitted: env.STAPLERD_CHANGED_OMITTED }));`,
    );
    const paths = ['/c/dir\n/etc/passwd/x.ocsp', '/c/ok.ocsp'];

    const result = await runHook([process.execPath, script, out], { env: {}, lists: { STAPLERD_CHANGED: paths }, timeoutMs: 10_000 });

    expect(result).toMatchObject({ ok: true, started: true });
    const received = JSON.parse(await readFile(out, 'utf8')) as { file: string; entries: string[]; lines: string; count: string; omitted: string };
    expect(received).toMatchObject({ entries: [...paths, ''], lines: '/c/ok.ocsp', count: '2', omitted: '1' });
    expect(await exists(received.file)).toBe(false);
  });
});
