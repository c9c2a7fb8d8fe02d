// --on-update through the built binary: once per pass that changed staples, argv split like a shell, failures and
// timeouts logged without failing the pass, shell operators refused.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createE2eFixture, exists, verifyWithOpenssl, type E2eFixture } from '../e2e/e2e-fixture.js';
import { expectExit, jsonEvents, RESPONDER_STEP_MS } from '../servers/server-fixture.js';
import { createHookRecorder, type HookRecorder } from './hook-recorder.js';

let fx: E2eFixture;
let certsDir: string;
let hooksDir: string;
let stapleFiles: string[];
let leafPems: string[];

beforeAll(async () => {
  fx = await createE2eFixture();
  certsDir = await fx.makeDir('certs');
  hooksDir = await fx.makeDir('hooks');
  stapleFiles = [];
  leafPems = [];
  for (const name of ['alpha', 'beta', 'gamma']) {
    const leaf = await fx.issueLeaf({ commonName: `${name}.test` });
    const { certFile } = await fx.pki.writeLeaf(certsDir, leaf, 'fullchain', name);
    stapleFiles.push(`${certFile}.ocsp`);
    leafPems.push(await fx.writeReferencePem(leaf));
  }
});

afterAll(async () => {
  await fx?.close();
});

const once = (...extra: string[]) => fx.once(['--certs', certsDir, '--log-format', 'json', ...extra]);

/** A forced pass whose answers are strictly newer, so every staple is rewritten and the hook is due. */
function forcedPass(...extra: string[]) {
  fx.advanceResponderClock(RESPONDER_STEP_MS);
  return once('--force', ...extra);
}

/** Running, that is: a killed process whose parent has not reaped it yet (a zombie, state Z) counts as gone. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function expectGoodStaples(): Promise<void> {
  for (const [index, staple] of stapleFiles.entries()) {
    const verdict = await verifyWithOpenssl(staple, leafPems[index]!, fx);
    expect({ staple, verified: verdict.verified, status: verdict.status }).toEqual({ staple, verified: true, status: 'good' });
  }
}

describe('--on-update', () => {
  let recorder: HookRecorder;

  beforeAll(async () => {
    recorder = await createHookRecorder(hooksDir, 'update');
  });

  it('runs once for a pass that wrote three staples, with STAPLERD_CHANGED listing them', async () => {
    const result = await once('--on-update', recorder.command());

    expectExit(result, 0);
    const runs = await recorder.runs();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ event: 'update', changedCount: '3', args: [] });
    expect(runs[0]!.changed!.split('\n').sort()).toEqual([...stapleFiles].sort());
    expect(jsonEvents(result).filter((e) => e.event === 'hook.update').length).toBe(1);
  });

  it('does not run when the pass changed nothing', async () => {
    const result = await once('--on-update', recorder.command());

    expectExit(result, 0);
    expect(await recorder.runs()).toHaveLength(1);
  });

  it('passes arguments split like a shell splits words: quotes group, $VAR is not expanded', async () => {
    const quoting = await createHookRecorder(hooksDir, 'quoting');

    expectExit(await forcedPass('--on-update', quoting.command(`'two words' "say \\"hi\\"" plain $STAPLERD_EVENT "$HOME"`)), 0);

    // No shell, no expansion: the hook reads STAPLERD_* from its environment instead.
    expect((await quoting.runs()).map((run) => run.args)).toEqual([['two words', 'say "hi"', 'plain', '$STAPLERD_EVENT', '$HOME']]);
  });

  it('runs `sh -c` scripts given in one quoted argument (the way to use shell features)', async () => {
    const out = path.join(hooksDir, 'sh-hook.txt');

    expectExit(await forcedPass('--on-update', `sh -c 'echo "$STAPLERD_EVENT $STAPLERD_CHANGED_COUNT" >> ${out}'`), 0);

    expect(await readFile(out, 'utf8')).toBe('update 3\n');
  });

  it('logs hook.update_failed with HOOK_FAILED for a failing hook, still writes the staples and exits 0', async () => {
    const before = await Promise.all(stapleFiles.map((file) => readFile(file)));

    const result = await forcedPass('--on-update', `sh -c 'echo boom >&2; exit 3'`);

    expectExit(result, 0);
    const failures = jsonEvents(result).filter((e) => e.event === 'hook.update_failed');
    expect(failures.map((e) => ({ level: e.level, code: e.code, exitCode: e.exitCode, stderr: e.stderr }))).toEqual([{ level: 'warn', code: 'HOOK_FAILED', exitCode: 3, stderr: 'boom' }]);
    const after = await Promise.all(stapleFiles.map((file) => readFile(file)));
    expect(after.map((bytes, index) => bytes.equals(before[index]!))).toEqual([false, false, false]);
    await expectGoodStaples();
  });

  it('logs HOOK_FAILED when the hook command does not exist', async () => {
    const result = await forcedPass('--on-update', path.join(hooksDir, 'no-such-command'));

    expectExit(result, 0);
    expect(jsonEvents(result).filter((e) => e.event === 'hook.update_failed').map((e) => e.code)).toEqual(['HOOK_FAILED']);
  });

  it('kills a hanging hook after --hook-timeout, logs HOOK_TIMEOUT and finishes with exit 0', async () => {
    const result = await forcedPass('--on-update', 'sleep 30', '--hook-timeout', '1');

    // runCli kills staplerd after 20 s: a normal exit proves the hook did not hold it for its 30 s.
    expectExit(result, 0);
    expect(jsonEvents(result).filter((e) => e.event === 'hook.update_failed').map((e) => e.code)).toEqual(['HOOK_TIMEOUT']);
    await expectGoodStaples();
  });

  it('kills the whole hook, background children included, after --hook-timeout', async () => {
    // A reload script that backgrounds a child keeps the stderr pipe open after its own death.
    const pidFile = path.join(hooksDir, 'background.pid');
    const result = await forcedPass('--on-update', `sh -c 'sleep 60 & echo $! > ${pidFile}; sleep 60'`, '--hook-timeout', '1');

    expectExit(result, 0);
    expect(jsonEvents(result).filter((e) => e.event === 'hook.update_failed').map((e) => e.code)).toEqual(['HOOK_TIMEOUT']);
    const backgroundPid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(isAlive(backgroundPid)).toBe(false);
  });

  it.each([
    ['a command separator', 'separator', 'touch MARKER; true'],
    ['a redirection', 'redirection', 'echo hi > MARKER'],
    ['a pipe', 'pipe', 'echo hi | tee MARKER'],
    ['an and-list', 'and-list', 'true && touch MARKER'],
  ])('refuses a hook string with %s (exit 2; hooks run without a shell)', async (_what, name, template) => {
    const marker = path.join(hooksDir, `marker-${name}`);

    const result = await once('--on-update', template.replace('MARKER', marker));

    expectExit(result, 2);
    expect(result.stderr).toMatch(/--on-update.*shell/);
    expect(await exists(marker)).toBe(false);
  });
});
