// Test helper: a plain-JavaScript copy of the output module that a child `node` process can import.
//
// Node 20 cannot run TypeScript and no tsx/ts-node is installed, so src/output/atomic-write.ts and the relative
// modules it imports are transpiled with the TypeScript compiler API (types stripped, nothing else changed).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const REPO_ROOT = process.cwd();
const ENTRY = 'src/output/atomic-write.ts';

/** Writes buildDir/src/output/atomic-write.js (plus its imports) and a package.json marking the tree as ESM. */
export async function buildChildModules(buildDir: string): Promise<string> {
  await transpileTree(ENTRY, buildDir, new Set());
  await writeFile(join(buildDir, 'package.json'), '{"type":"module"}\n');
  return buildDir;
}

async function transpileTree(entry: string, buildDir: string, done: Set<string>): Promise<void> {
  if (done.has(entry)) return;
  done.add(entry);
  const source = await readFile(join(REPO_ROOT, entry), 'utf8');
  const output = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const outFile = join(buildDir, entry.replace(/\.ts$/, '.js'));
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, output);
  for (const match of source.matchAll(/from\s+'(\.{1,2}\/[^']+)\.js'/g)) {
    const imported = relative(REPO_ROOT, resolve(REPO_ROOT, dirname(entry), `${match[1]}.ts`));
    await transpileTree(imported, buildDir, done);
  }
}
