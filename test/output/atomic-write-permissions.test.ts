// A write refused by directory permissions fails cleanly: WRITE_FAILED naming the file, old staple intact, no temp file.
//
// Root ignores directory permissions, so when the tests run as root the write is made by a child process running
// as the unprivileged uid 65534 ("nobody"), using the transpiled module from buildChildModules.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../../src/output/index.js';
import { buildChildModules } from './child-modules.js';

const NOBODY_ID = 65534;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const CHILD_SOURCE = `
import { writeFileAtomic } from './src/output/atomic-write.js';
const [target] = process.argv.slice(2);
try {
  await writeFileAtomic(target, Buffer.from('new staple'));
  console.log(JSON.stringify({ written: true }));
} catch (error) {
  console.log(JSON.stringify({ name: error.name, code: error.code, file: error.file, message: error.message }));
}
`;

interface WriteOutcome {
  readonly written?: boolean;
  readonly code?: string;
  readonly file?: string;
  readonly message?: string;
}

/** Attempts the write as an ordinary user: in-process normally, in a child dropped to "nobody" when running as root. */
async function attemptUnprivilegedWrite(target: string, buildDir: string | undefined): Promise<WriteOutcome> {
  if (buildDir === undefined) {
    try {
      await writeFileAtomic(target, Buffer.from('new staple'));
      return { written: true };
    } catch (error) {
      return error as WriteOutcome;
    }
  }
  const { stdout } = await promisify(execFile)(process.execPath, [join(buildDir, 'child.mjs'), target], {
    cwd: buildDir,
    uid: NOBODY_ID,
    gid: NOBODY_ID,
  });
  return JSON.parse(stdout) as WriteOutcome;
}

describe('writeFileAtomic in a read-only directory', () => {
  let workDir: string;
  let buildDir: string | undefined;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'staplerd-perm-'));
    await chmod(workDir, 0o755);
    if (isRoot) {
      buildDir = await buildChildModules(join(workDir, 'build'));
      await writeFile(join(buildDir, 'child.mjs'), CHILD_SOURCE);
    }
  });

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('throws WRITE_FAILED naming the file and keeps the old staple', async () => {
    const outDir = join(workDir, 'out');
    const target = join(outDir, 'site.pem.ocsp');
    await mkdir(outDir);
    await writeFile(target, 'old staple');
    // Owned by the writing user, so only the read-only mode stands in the way.
    if (isRoot) await chown(outDir, NOBODY_ID, NOBODY_ID);
    await chmod(outDir, 0o555);

    const outcome = await attemptUnprivilegedWrite(target, buildDir);

    expect(outcome).toMatchObject({ code: 'WRITE_FAILED', file: target });
    expect(outcome.message).toContain(target);
    expect(await readFile(target, 'utf8')).toBe('old staple');
    expect(await readdir(outDir)).toEqual(['site.pem.ocsp']);
  });
});
