// A hook command for the tests: a small Node script that appends one JSON line per run (argv and STAPLERD_* env).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One run of the recorder hook. */
export interface HookRun {
  /** Arguments after the log file, exactly as the hook received them. */
  readonly args: string[];
  readonly event?: string;
  readonly changed?: string;
  readonly changedCount?: string;
  readonly revoked?: string;
  readonly revokedSerials?: string;
  readonly changedOmitted?: string;
  readonly revokedCount?: string;
  readonly revokedOmitted?: string;
  /** The NUL-separated list files, read while the hook ran, split into names (undefined when not set). */
  readonly changedFileEntries?: string[];
  readonly revokedFileEntries?: string[];
  /** Permission bits of STAPLERD_CHANGED_FILE and of its directory, as octal strings. */
  readonly changedFileMode?: string;
  readonly changedDirMode?: string;
  /** The two list files' paths, to check they are gone after the hook. */
  readonly changedFile?: string;
  readonly revokedFile?: string;
}

const RECORDER_SOURCE = `// Appends one JSON line per run to process.argv[2].
const { appendFileSync, readFileSync, statSync } = require('node:fs');
const path = require('node:path');
const env = process.env;
const entries = (file) => (file ? readFileSync(file, 'utf8').split('\\0').slice(0, -1) : undefined);
const mode = (file) => (file ? (statSync(file).mode & 0o777).toString(8) : undefined);
appendFileSync(process.argv[2], JSON.stringify({
  args: process.argv.slice(3),
  event: env.STAPLERD_EVENT,
  changed: env.STAPLERD_CHANGED,
  changedCount: env.STAPLERD_CHANGED_COUNT,
  revoked: env.STAPLERD_REVOKED,
  revokedSerials: env.STAPLERD_REVOKED_SERIALS,
  changedOmitted: env.STAPLERD_CHANGED_OMITTED,
  revokedCount: env.STAPLERD_REVOKED_COUNT,
  revokedOmitted: env.STAPLERD_REVOKED_OMITTED,
  changedFileEntries: entries(env.STAPLERD_CHANGED_FILE),
  revokedFileEntries: entries(env.STAPLERD_REVOKED_FILE),
  changedFileMode: mode(env.STAPLERD_CHANGED_FILE),
  changedDirMode: env.STAPLERD_CHANGED_FILE ? mode(path.dirname(env.STAPLERD_CHANGED_FILE)) : undefined,
  changedFile: env.STAPLERD_CHANGED_FILE,
  revokedFile: env.STAPLERD_REVOKED_FILE,
}) + '\\n');
`;

export interface HookRecorder {
  /** The hook command line (split by staplerd like a shell would), with `extraArgs` appended verbatim. */
  command(extraArgs?: string): string;
  /** Every run so far, in order. */
  runs(): Promise<HookRun[]>;
}

/** Writes the recorder script into dir; its log is dir/<name>.jsonl. Paths must not contain quotes or spaces. */
export async function createHookRecorder(dir: string, name: string): Promise<HookRecorder> {
  const script = path.join(dir, `${name}.cjs`);
  const log = path.join(dir, `${name}.jsonl`);
  await writeFile(script, RECORDER_SOURCE);
  return {
    command: (extraArgs = '') => `${process.execPath} ${script} ${log}${extraArgs ? ` ${extraArgs}` : ''}`,
    async runs() {
      const text = await readFile(log, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as HookRun);
    },
  };
}
