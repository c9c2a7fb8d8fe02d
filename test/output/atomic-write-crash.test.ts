// Crash safety: a writer process killed with SIGKILL at each step of a write never leaves a partial staple.
//
// Why a real child process: only a process that really dies mid-write (between write, fsync, rename) shows that the
// target is never truncated or mixed. The child runs the real writeFileAtomic, transpiled by buildChildModules, with
// a FileSystem that kills the child just before a chosen call: so each step is hit every run, never by chance of a
// timer. SIGKILL tests atomicity against process death; fsync's protection against power loss cannot be observed
// here (atomic-write-sequence.test.ts checks the fsync calls and their order instead).
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/output/index.js';
import { buildChildModules } from './child-modules.js';

const FILE_SIZE = 1024 * 1024;
const OLD = Buffer.alloc(FILE_SIZE, 'A');
const NEW = Buffer.alloc(FILE_SIZE, 'B');

/** Where the child dies: just before the nth call of op, and what the target must then hold. */
const KILL_POINTS: Array<{ step: string; op: string; nth: number; expected: 'old' | 'new' }> = [
  { step: 'before the first byte is written', op: 'write', nth: 1, expected: 'old' },
  { step: 'after the data is written, before the mode is set', op: 'fchmod', nth: 1, expected: 'old' },
  { step: 'before the temp file is fsynced', op: 'fsync', nth: 1, expected: 'old' },
  { step: 'before the rename', op: 'rename', nth: 1, expected: 'old' },
  { step: 'after the rename, before the directory fsync', op: 'fsync', nth: 2, expected: 'new' },
];

const CHILD_SOURCE = `
import { writeFileAtomic } from './src/output/atomic-write.js';
import { NODE_FILE_SYSTEM } from './src/output/file-system.js';
const [target, killOp, killNth] = process.argv.slice(2);
let seen = 0;
const fileSystem = Object.fromEntries(Object.entries(NODE_FILE_SYSTEM).map(([op, call]) => [op, (...args) => {
  if (op === killOp && ++seen === Number(killNth)) {
    process.stdout.write('dying\\n');
    process.kill(process.pid, 'SIGKILL');
    return;
  }
  call(...args);
}]));
await writeFileAtomic(target, Buffer.alloc(${FILE_SIZE}, 'B'), { fileSystem });
process.stdout.write('survived\\n');
`;

function runChild(script: string, args: readonly string[]): Promise<{ stdout: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', reject);
    child.once('close', (_code, signal) => resolvePromise({ stdout, signal }));
  });
}

describe('writeFileAtomic under SIGKILL', () => {
  let workDir: string;
  let childScript: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'staplerd-crash-'));
    const buildDir = await buildChildModules(join(workDir, 'build'));
    childScript = join(buildDir, 'child.mjs');
    await writeFile(childScript, CHILD_SOURCE);
  });

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it.each(KILL_POINTS)('leaves the complete $expected file when killed $step', async ({ op, nth, expected }) => {
    const outDir = join(workDir, `out-${op}-${nth}`);
    const target = join(outDir, 'fullchain.pem.ocsp');
    await writeFileAtomic(target, OLD);

    const child = await runChild(childScript, [target, op, String(nth)]);
    // It really died at that step (a child that finished the write would prove nothing about a crash).
    expect(child).toEqual({ stdout: 'dying\n', signal: 'SIGKILL' });

    const content = await readFile(target);
    expect(content.equals(expected === 'old' ? OLD : NEW)).toBe(true);

    // Beside the staple, the dead writer left at most its own temp file, under the documented name an operator can
    // delete by pattern (docs/behaviour.md); nothing else.
    const leftovers = (await readdir(outDir)).filter((name) => name !== 'fullchain.pem.ocsp');
    expect(leftovers.length).toBeLessThanOrEqual(1);
    for (const name of leftovers) expect(name).toMatch(/^\.fullchain\.pem\.ocsp\.staplerd-\d+-[0-9a-f]+\.tmp$/);
  });
});
