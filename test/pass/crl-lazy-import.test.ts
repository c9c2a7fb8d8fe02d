// The CRL code is loaded only when a certificate needs it (docs/architecture.md, issue 13's rule): no module outside
// src/crl/ and the CRL decoder itself imports them statically; pass/crl-revocation.ts uses `await import()`.
import { expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/run-cli.js';

const CRL_ONLY = /(\/crl\/|\/pki\/(crl-decode|crl-validation|revoked-serials)\.js)/;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : Promise.resolve([path.join(dir, e.name)]))));
  return nested.flat().filter((file) => file.endsWith('.ts'));
}

it('imports the CRL decoder and src/crl/ statically only from CRL code; the pass loads them with await import()', async () => {
  const src = path.join(PROJECT_ROOT, 'src');
  const offenders: string[] = [];
  const dynamic: string[] = [];
  for (const file of await sourceFiles(src)) {
    const relative = path.relative(src, file);
    const text = await readFile(file, 'utf8');
    const isCrlCode = relative.startsWith('crl/') || /^pki\/(crl-decode|crl-validation|revoked-serials)\.ts$/.test(relative);
    for (const match of text.matchAll(/^(import|export)(?! type)[^;]*? from '([^']+)'/gm)) {
      if (!isCrlCode && CRL_ONLY.test(match[2]!)) offenders.push(`${relative}: ${match[2]}`);
    }
    for (const match of text.matchAll(/await import\('([^']+)'\)/g)) if (CRL_ONLY.test(match[1]!)) dynamic.push(`${relative}: ${match[1]}`);
  }
  expect(offenders).toEqual([]);
  expect(dynamic).toEqual(['pass/crl-revocation.ts: ../crl/index.js']);
});
