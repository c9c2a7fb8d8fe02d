// A run loads only the libraries it uses (issue 13, docs/architecture.md): what a `once` with nothing to fetch, without a
// proxy, hooks, metrics, a TTY or a config file never needs stays unloaded.
import { describe, it, expect } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();

/**
 * Loaded with --import into the CLI: records every ES module node loads (a loader hook) and, at exit, every CommonJS
 * module in require's cache (what createRequire and CommonJS packages load, which the hook does not see).
 */
function preloadSource(listFile: string): { preload: string; hooks: string } {
  const hooks = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) { appendFileSync(${JSON.stringify(listFile)}, url + '\\n'); return next(url, context); }
`;
  const preload = `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
register('./hooks.mjs', import.meta.url);
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(${JSON.stringify(listFile)}, Object.keys(require.cache).join('\\n') + '\\n'));
`;
  return { preload, hooks };
}

/** The package names under node_modules among the loaded files. */
function packagesIn(list: string): Set<string> {
  const names = new Set<string>();
  for (const match of list.matchAll(/node_modules\/((?:@[^/\n]+\/)?[^/\n]+)\//g)) names.add(match[1]!);
  return names;
}

describe('libraries a run does not use', () => {
  it('are not loaded by a once without proxy, hooks, metrics, terminal or config file', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const listFile = path.join(dir, 'loaded.txt');
    const { preload, hooks } = preloadSource(listFile);
    await writeFile(path.join(dir, 'preload.mjs'), preload);
    await writeFile(path.join(dir, 'hooks.mjs'), hooks);
    const result = await runCli(['once', '--certs', dir, '--state-dir', path.join(dir, 'state')], {
      env: { NODE_OPTIONS: `--import ${pathToFileURL(path.join(dir, 'preload.mjs')).href}` },
    });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const loaded = packagesIn(await readFile(listFile, 'utf8'));
    // The recording works for both module kinds: winston (an ES import of CommonJS) and logform (required by winston).
    expect([...loaded].filter((name) => name === 'winston' || name === 'logform').sort()).toEqual(['logform', 'winston']);
    const unused = ['got', 'hpagent', 'shell-quote', 'yaml', 'prom-client', 'cli-progress', 'ioredis', 'pkijs'];
    expect(unused.filter((name) => loaded.has(name))).toEqual([]);
  });
});
