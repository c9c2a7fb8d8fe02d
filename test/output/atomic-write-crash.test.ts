// Crash safety: a writer process killed with SIGKILL at random moments never leaves a partial staple.
//
// Why a real child process: only a process that really dies mid-write (between write, fsync, rename) shows that the
// target is never truncated or mixed. The child runs the real writeFileAtomic, transpiled by buildChildModules.
// In practice most kills land mid-write (a temp file is left over), so cleanStaleTempFiles is exercised on real debris.
// SIGKILL tests atomicity against process death; fsync's protection against power loss cannot be observed here.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanStaleTempFiles, writeFileAtomic } from '../../src/output/index.js';
import { buildChildModules } from './child-modules.js';

const FILE_SIZE = 1024 * 1024;
const VERSIONS = [Buffer.alloc(FILE_SIZE, 'A'), Buffer.alloc(FILE_SIZE, 'B')];
/** Lines the child prints (completed writes) before it is killed: varied so kills land in different phases. */
const KILL_AFTER_WRITES = [1, 2, 3, 5, 8, 13];

const CHILD_SOURCE = `
import { writeFileAtomic } from './src/output/atomic-write.js';
const [target] = process.argv.slice(2);
const versions = [Buffer.alloc(${FILE_SIZE}, 'A'), Buffer.alloc(${FILE_SIZE}, 'B')];
for (let index = 0; ; index += 1) {
  await writeFileAtomic(target, versions[index % 2]);
  process.stdout.write(index + '\\n');
}
`;

function waitForWrites(child: ChildProcess, count: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let lines = 0;
    child.stdout!.on('data', (chunk: Buffer) => {
      lines += chunk.toString().split('\n').length - 1;
      if (lines >= count) resolvePromise();
    });
    child.once('exit', (code, signal) => reject(new Error(`child exited early (code ${code}, signal ${signal})`)));
  });
}

function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolvePromise) => {
    child.once('exit', () => resolvePromise());
    child.kill('SIGKILL');
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

  it.each(KILL_AFTER_WRITES)('leaves the complete old or new file when killed after %p writes', async (writes) => {
    const outDir = join(workDir, `out-${writes}`);
    const target = join(outDir, 'fullchain.pem.ocsp');
    await writeFileAtomic(target, VERSIONS[1]!);
    const child = spawn(process.execPath, [childScript, target], { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitForWrites(child, writes);
    // A short random pause puts the kill at an unpredictable point of the next write (open, write, fsync, rename).
    await new Promise((resolvePromise) => setTimeout(resolvePromise, Math.random() * 10));
    await killAndWait(child);

    const content = await readFile(target);
    expect(content.length).toBe(FILE_SIZE);
    expect(VERSIONS.some((version) => version.equals(content))).toBe(true);

    // Whatever temp file the dead writer left is reclaimable, and nothing but the staple remains.
    await cleanStaleTempFiles(outDir);
    expect(await readdir(outDir)).toEqual(['fullchain.pem.ocsp']);
  });
});
