// Reads docs/architecture.md's import-rule tables and checks a list of imports in src/ against them.
import { builtinModules } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';

/** One import found in src/: the importing file (relative to the project, `src/...`) and the specifier as written. */
export interface FoundImport {
  readonly file: string;
  readonly specifier: string;
}

export interface ImportRules {
  /** Folder (or top-level file such as `version.ts`) of src/ -> the folders and top-level files it may import. */
  readonly folders: ReadonlyMap<string, ReadonlySet<string>>;
  /** Third-party package -> the modules that may import it: `src/a/b.ts` exactly, or `src/a/*` for any file under `src/a/`. */
  readonly libraries: ReadonlyMap<string, readonly string[]>;
}

/** Both tables of docs/architecture.md, found by their header rows. */
export function parseImportRules(markdown: string): ImportRules {
  const folders = new Map<string, Set<string>>();
  for (const [folder, allowed] of readTable(markdown, ['folder', 'may import'])) {
    const name = onlyCode(folder, 'folder');
    if (folders.has(name)) throw new Error(`docs/architecture.md import rules: two rows for ${name}`);
    folders.set(name, new Set(codeSpans(allowed)));
  }
  const libraries = new Map<string, string[]>();
  for (const [names, modules] of readTable(markdown, ['library', 'only imported by'])) {
    // "hpagent (proxy agents)": the names are the words before any parenthesis, comma separated.
    for (const name of names.replace(/\(.*\)/, '').split(',').map((part) => part.trim()).filter(Boolean)) {
      libraries.set(name, codeSpans(modules).filter((span) => span.startsWith('src/')));
    }
  }
  return { folders, libraries };
}

/** Every static import, `export ... from` and `import()` of every .ts file under srcDir (type-only ones included). */
export async function collectImports(projectRoot: string, srcDir = 'src'): Promise<FoundImport[]> {
  const found: FoundImport[] = [];
  for (const file of await listTypeScriptFiles(path.join(projectRoot, srcDir))) {
    const source = await readFile(file, 'utf8');
    const relative = path.relative(projectRoot, file).split(path.sep).join('/');
    for (const imported of ts.preProcessFile(source, true, true).importedFiles) found.push({ file: relative, specifier: imported.fileName });
  }
  return found;
}

/**
 * The folder of src/ a file belongs to (`src/cli/commands/x.ts` -> `cli`), or a top-level file's own source name
 * (`src/version.js`, as specifiers spell it under NodeNext, -> `version.ts`).
 */
export function unitOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] !== 'src' || parts.length < 2) throw new Error(`not a file under src/: ${file}`);
  return parts.length === 2 ? parts[1]!.replace(/\.js$/, '.ts') : parts[1]!;
}

/** One message per import the rules do not allow, naming the file, the specifier and the rule it breaks. */
export function findViolations(imports: readonly FoundImport[], rules: ImportRules): string[] {
  const violations: string[] = [];
  for (const { file, specifier } of imports) {
    const from = unitOf(file);
    if (specifier.startsWith('.')) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      if (!target.startsWith('src/')) {
        violations.push(`${file}: imports ${specifier}, outside src/`);
        continue;
      }
      const to = unitOf(target);
      if (to === from) continue;
      const allowed = rules.folders.get(from);
      if (!allowed) violations.push(`${file}: folder ${from} has no row in the import rules`);
      else if (!allowed.has(to)) violations.push(`${file}: ${from} may not import ${to} (${specifier})`);
      continue;
    }
    const library = packageName(specifier);
    if (library === undefined) continue;
    const owners = rules.libraries.get(library);
    if (!owners) violations.push(`${file}: imports ${library}, which has no row in the library table`);
    else if (!owners.some((owner) => isOwnedBy(file, owner))) violations.push(`${file}: imports ${library}, only ${owners.join(', ')} may`);
  }
  return violations;
}

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`), or undefined for Node's own modules. */
export function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isOwnedBy(file: string, owner: string): boolean {
  return owner.endsWith('/*') ? file.startsWith(owner.slice(0, -1)) : file === owner;
}

async function listTypeScriptFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return listTypeScriptFiles(full);
      return entry.isFile() && entry.name.endsWith('.ts') ? [full] : [];
    }),
  );
  return nested.flat().sort();
}

/** The body rows (as cells) of the markdown table whose header row is exactly `header`. */
function readTable(markdown: string, header: readonly string[]): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|') && sameCells(splitRow(line), header));
  if (start < 0) throw new Error(`docs/architecture.md has no table | ${header.join(' | ')} |`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = splitRow(line);
    if (cells.length !== header.length) throw new Error(`docs/architecture.md: row does not have ${header.length} cells: ${line}`);
    rows.push(cells);
  }
  return rows;
}

function sameCells(cells: readonly string[], header: readonly string[]): boolean {
  return cells.length === header.length && cells.every((cell, index) => cell === header[index]);
}

function splitRow(line: string): string[] {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((cell) => cell.trim());
}

function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
}

function onlyCode(cell: string, what: string): string {
  const match = /^`([^`]+)`$/.exec(cell);
  if (!match) throw new Error(`docs/architecture.md import rules: ${what} cell is not one \`name\`: ${cell}`);
  return match[1]!;
}
