// docs/cli.md's "Error codes" table says exactly what ERROR_CODES decides: every code, its level, retry and exit status.
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ERROR_CODES, type ErrorCode } from '../../src/errors/index.js';
import { PROJECT_ROOT } from '../helpers/run-cli.js';

interface DocumentedRow {
  readonly code: string;
  readonly level: string;
  readonly retried: string;
  readonly exit: string;
}

/** The rows of the markdown table under "## Error codes", columns: code | meaning | log level | retried | exit. */
function parseErrorCodeTable(markdown: string): DocumentedRow[] {
  const start = markdown.indexOf('## Error codes');
  if (start < 0) throw new Error('docs/cli.md has no "## Error codes" section');
  const section = markdown.slice(start).split('\n').slice(1);
  const nextHeading = section.findIndex((line) => line.startsWith('#'));
  const lines = (nextHeading < 0 ? section : section.slice(0, nextHeading)).filter((line) => line.startsWith('|'));
  const [header, separator, ...body] = lines;
  expect(splitRow(header ?? '')).toEqual(['code', 'meaning', 'log level', 'retried', 'exit']);
  expect(separator).toMatch(/^\|( *---+ *\|)+$/);
  return body.map((line) => {
    const cells = splitRow(line);
    if (cells.length !== 5) throw new Error(`docs/cli.md error-code row does not have 5 cells: ${line}`);
    const code = /^`([A-Z_]+)`$/.exec(cells[0]!)?.[1];
    if (!code) throw new Error(`docs/cli.md error-code row does not start with a \`CODE\`: ${line}`);
    return { code, level: cells[2]!, retried: cells[3]!, exit: cells[4]! };
  });
}

/** Cells of one table row; `|` inside backticks (e.g. `a|b`) does not split. */
function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let inCode = false;
  for (const char of line.trim().slice(1, -1)) {
    if (char === '`') inCode = !inCode;
    if (char === '|' && !inCode) {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += char;
    }
  }
  cells.push(cell.trim());
  return cells;
}

function expectedRow(code: ErrorCode): DocumentedRow {
  const policy = ERROR_CODES[code];
  return { code, level: policy.level, retried: policy.retry ? 'yes' : 'no', exit: String(policy.exitCode) };
}

async function readDocumentedRows(): Promise<DocumentedRow[]> {
  return parseErrorCodeTable(await readFile(path.join(PROJECT_ROOT, 'docs', 'cli.md'), 'utf8'));
}

const TABLE_HEAD = '## Error codes\n\n| code | meaning | log level | retried | exit |\n| --- | --- | --- | --- | --- |\n';

describe('docs/cli.md error-code table', () => {
  it('documents every code of ERROR_CODES, and no code that does not exist', async () => {
    const documented = (await readDocumentedRows()).map((row) => row.code);
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('documents each code once', async () => {
    const documented = (await readDocumentedRows()).map((row) => row.code);
    expect(documented.filter((code, index) => documented.indexOf(code) !== index)).toEqual([]);
  });

  it('gives each code the log level, retry and exit status ERROR_CODES decides', async () => {
    const rows = await readDocumentedRows();
    const known = rows.filter((row): row is DocumentedRow & { code: ErrorCode } => row.code in ERROR_CODES);
    expect(known).toEqual(known.map((row) => expectedRow(row.code)));
  });
});

// The checks above are only worth something if a wrong row makes them fail.
describe('parseErrorCodeTable', () => {
  it('reads a row that disagrees with the table as it is written, so the comparison sees the difference', () => {
    const rows = parseErrorCodeTable(`${TABLE_HEAD}| \`URL_UNSUPPORTED\` | scheme \`ftp|ldap\` | warn | yes | 1 |\n\n## Next\n| x | y |\n`);
    expect(rows).toEqual([{ code: 'URL_UNSUPPORTED', level: 'warn', retried: 'yes', exit: '1' }]);
    expect(rows[0]).not.toEqual(expectedRow('URL_UNSUPPORTED'));
  });

  it('refuses a row that is not a code row rather than skipping it', () => {
    expect(() => parseErrorCodeTable(`${TABLE_HEAD}| URL_UNSUPPORTED | x | error | no | 1 |\n`)).toThrow('does not start with a `CODE`');
  });
});
