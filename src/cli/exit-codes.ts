// Exit statuses of the staplerd command (docs/cli.md), decided from error codes through the one table in errors/.
import { policyForCode, toStaplerdError } from '../errors/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Prints an error that ended a command and returns its exit status. */
export function reportFatalError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const err = toStaplerdError(error);
  const where = err.file ? ` (${err.file})` : '';
  stderr.write(`staplerd: ${err.code}: ${err.message}${where}\n`);
  return policyForCode(err.code).exitCode || EXIT_FAILED;
}
