// Shared by the server tests: the e2e fixture (PKI, responder, built binary) plus checks on what a server stapled.
import { expect } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CliResult } from '../helpers/run-cli.js';
import { verifyWithOpenssl, type E2eFixture } from '../e2e/e2e-fixture.js';

/** The responder answers with thisUpdate = its clock - 1 min at whole seconds; moving it 30 s makes the next answer
 *  strictly newer, and stays well inside staplerd's 300 s clock-skew tolerance. */
export const RESPONDER_STEP_MS = 30_000;

let receivedCount = 0;

/**
 * Asserts that the bytes a server stapled are exactly the staple file and that openssl, independently of staplerd,
 * reads them as a verified "good" answer for the leaf.
 */
export async function expectStapledFile(fx: E2eFixture, stapled: Buffer | undefined, stapleFile: string, leafPem: string): Promise<void> {
  const onDisk = await readFile(stapleFile);
  expect(stapled?.toString('base64')).toBe(onDisk.toString('base64'));
  const received = path.join(fx.root, `received-${++receivedCount}.der`);
  await writeFile(received, stapled!);
  const verdict = await verifyWithOpenssl(received, leafPem, fx);
  expect({ verified: verdict.verified, status: verdict.status }).toEqual({ verified: true, status: 'good' });
}

/** Asserts an exit status, showing the command's output when it differs. */
export function expectExit(result: CliResult, code: number): void {
  expect({ code: result.code, output: result.code === code ? '' : `stdout:\n${result.stdout}\nstderr:\n${result.stderr}` }).toEqual({ code, output: '' });
}

/** Parses `--log-format json` stderr into events. */
export function jsonEvents(result: CliResult): Record<string, unknown>[] {
  return result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
