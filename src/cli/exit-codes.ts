// Exit statuses of the staplerd command (docs/cli.md), decided from error codes through the one table in errors/.
import { policyForCode, toStaplerdError, type ErrorCode } from '../errors/index.js';
import { escapeControlCharacters } from '../log/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * The exit status of a command whose outcome is this failure (an error that ended it, or `check`'s verdict): its
 * code's exit column in ERROR_CODES. A 0 there means the condition never fails a pass on its own (NO_OCSP_URL,
 * HOOK_FAILED, STATE_WRITE_FAILED, ...); when such an error ends a command anyway, the command did not do its job,
 * so it exits 1, never 0.
 */
export function exitStatusOfFailure(code: ErrorCode): number {
  return Math.max(policyForCode(code).exitCode, EXIT_FAILED);
}

/** Prints an error that ended a command and returns its exit status. */
export function reportFatalError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const err = toStaplerdError(error);
  const where = err.file ? ` (${err.file})` : '';
  // Messages name files and quote values from outside (file names, YAML): escaped like the log, one line always.
  stderr.write(`staplerd: ${err.code}: ${escapeControlCharacters(`${err.message}${where}`)}\n`);
  return exitStatusOfFailure(err.code);
}
