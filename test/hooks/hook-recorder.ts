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
}

const RECORDER_SOURCE = `// Appends one JSON line per run to process.argv[2].
const { appendFileSync } = require('node:fs');
const env = process.env;
appendFileSync(process.argv[2], JSON.stringify({
  args: process.argv.slice(3),
  event: env.STAPLERD_EVENT,
  changed: env.STAPLERD_CHANGED,
  changedCount: env.STAPLERD_CHANGED_COUNT,
  revoked: env.STAPLERD_REVOKED,
  revokedSerials: env.STAPLERD_REVOKED_SERIALS,
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
