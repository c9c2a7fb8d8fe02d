// docs/architecture.md's import rules hold for the code: which folder imports which, and who imports each library.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { collectImports, findViolations, packageName, parseImportRules, unitOf, type FoundImport, type ImportRules } from '../helpers/import-rules.js';
import { PROJECT_ROOT } from '../helpers/run-cli.js';

/**
 * Imports that break a documented rule and are being removed in issue 12 (allowed until issue 12 lands). Each entry
 * must still occur: when the import goes, the entry goes with it.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];

let rules: ImportRules;
let imports: FoundImport[];

beforeAll(async () => {
  rules = parseImportRules(await readFile(path.join(PROJECT_ROOT, 'docs', 'architecture.md'), 'utf8'));
  imports = await collectImports(PROJECT_ROOT);
});

describe('docs/architecture.md import rules', () => {
  it('every import in src/ is allowed by the folder table and the library table', () => {
    expect(imports.length).toBeGreaterThan(100);
    const violations = findViolations(imports, rules).filter((violation) => !KNOWN_VIOLATIONS.includes(violation));
    expect(violations).toEqual([]);
  });

  it('lists as known violations only imports that still break a rule', () => {
    const violations = findViolations(imports, rules);
    expect(KNOWN_VIOLATIONS.filter((known) => !violations.includes(known))).toEqual([]);
  });

  it('has one row for every folder and top-level file of src/, and none for anything else', async () => {
    const entries = await readdir(path.join(PROJECT_ROOT, 'src'), { withFileTypes: true });
    const units = entries.filter((entry) => entry.isDirectory() || entry.name.endsWith('.ts')).map((entry) => entry.name);
    expect([...rules.folders.keys()].sort()).toEqual(units.sort());
  });

  it('lets a folder import only folders and top-level files that have rows', () => {
    const rowless = [...rules.folders].flatMap(([folder, allowed]) => [...allowed].filter((to) => !rules.folders.has(to)).map((to) => `${folder} -> ${to}`));
    expect(rowless).toEqual([]);
  });

  it('has a row only for libraries src/ imports, each naming the modules that may', () => {
    const imported = new Set(imports.flatMap(({ specifier }) => (specifier.startsWith('.') ? [] : [packageName(specifier)])));
    const unused = [...rules.libraries.keys()].filter((library) => !imported.has(library));
    expect(unused).toEqual([]);
    for (const owners of rules.libraries.values()) expect(owners.length).toBeGreaterThan(0);
  });
});

describe('the import-rule check', () => {
  it('reports a folder importing one its row does not list', () => {
    const violations = findViolations([{ file: 'src/pki/certificate.ts', specifier: '../scheduler/run-pass.js' }], rules);
    expect(violations).toEqual(['src/pki/certificate.ts: pki may not import scheduler (../scheduler/run-pass.js)']);
  });

  it('reports policy/ reaching for I/O it must be handed (policy stays pure)', () => {
    const violations = findViolations([{ file: 'src/policy/refresh-schedule.ts', specifier: '../output/atomic-write.js' }], rules);
    expect(violations).toEqual(['src/policy/refresh-schedule.ts: policy may not import output (../output/atomic-write.js)']);
  });

  it('resolves specifiers from nested folders before judging them', () => {
    const nested = findViolations([{ file: 'src/cli/commands/once-command.ts', specifier: '../../config/index.js' }], rules);
    expect(nested).toEqual([]);
    const upward = findViolations([{ file: 'src/fs/read-regular-file.ts', specifier: '../cli/commands/once-command.js' }], rules);
    expect(upward).toEqual(['src/fs/read-regular-file.ts: fs may not import cli (../cli/commands/once-command.js)']);
  });

  it('reports a library imported outside its one module, and a library with no row', () => {
    const violations = findViolations(
      [
        { file: 'src/scheduler/run-pass.ts', specifier: 'got' },
        { file: 'src/ocsp/http-client.ts', specifier: 'got' },
        { file: 'src/pki/der.ts', specifier: 'asn1js' },
        { file: 'src/output/atomic-write.ts', specifier: 'left-pad' },
        { file: 'src/fs/read-regular-file.ts', specifier: 'node:fs' },
      ],
      rules,
    );
    expect(violations).toEqual([
      'src/scheduler/run-pass.ts: imports got, only src/ocsp/http-client.ts may',
      'src/output/atomic-write.ts: imports left-pad, which has no row in the library table',
    ]);
  });

  it('judges a top-level file by its source name, as specifiers spell it with .js', () => {
    expect(unitOf('src/version.js')).toBe('version.ts');
    expect(findViolations([{ file: 'src/policy/staple-state.ts', specifier: '../version.js' }], rules)).toEqual([
      'src/policy/staple-state.ts: policy may not import version.ts (../version.js)',
    ]);
  });

  it('reports an import from a folder that has no row', () => {
    expect(unitOf('src/widgets/fetch-widget.ts')).toBe('widgets');
    const violations = findViolations([{ file: 'src/widgets/fetch-widget.ts', specifier: '../errors/index.js' }], rules);
    expect(violations).toEqual(['src/widgets/fetch-widget.ts: folder widgets has no row in the import rules']);
  });
});
