// Locates the shared OCSP conformance corpus (../shared/conformance from the project root) and loads its cases.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../../src/errors/index.js';

export interface ConformanceCase {
  readonly id: string;
  readonly why: string;
  readonly expect: 'valid' | 'invalid';
  readonly at: Date;
  readonly response: Uint8Array;
  readonly issuer: Uint8Array;
  readonly issuerPath: string;
  readonly cert?: Uint8Array;
  readonly certPath?: string;
  readonly serialHex?: string;
}

interface RawCase {
  id: string;
  why: string;
  expect: string;
  at: string;
  response: string;
  issuer: string;
  cert?: string;
  serial?: string;
}

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The corpus folder: a sibling of the project root, shared read-only by every checkout. */
export const CONFORMANCE_DIR = path.resolve(PROJECT_ROOT, '..', 'shared', 'conformance');

export function isConformanceCorpusPresent(): boolean {
  return existsSync(path.join(CONFORMANCE_DIR, 'cases.json'));
}

/** Reads a corpus file (paths in cases.json are relative to the corpus folder). */
export function readCorpusFile(relativePath: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(CONFORMANCE_DIR, relativePath)));
}

export function loadConformanceCases(): ConformanceCase[] {
  const parsed = JSON.parse(readFileSync(path.join(CONFORMANCE_DIR, 'cases.json'), 'utf8')) as { cases: RawCase[] };
  return parsed.cases.map(toCase);
}

function toCase(raw: RawCase): ConformanceCase {
  if (raw.expect !== 'valid' && raw.expect !== 'invalid') throw new Error(`case ${raw.id}: unknown expect "${raw.expect}"`);
  return {
    id: raw.id,
    why: raw.why,
    expect: raw.expect,
    at: new Date(raw.at),
    response: readCorpusFile(raw.response),
    issuer: readCorpusFile(raw.issuer),
    issuerPath: raw.issuer,
    ...(raw.cert ? { cert: readCorpusFile(raw.cert), certPath: raw.cert } : {}),
    ...(raw.serial ? { serialHex: raw.serial } : {}),
  };
}

/**
 * The code each kind of invalid case is rejected with, given the check order (CertID before signature before time).
 * The corpus only says valid/invalid; pinning the code keeps a case from passing for the wrong reason, e.g. an
 * unreadable file. Shared by the library test and the `staplerd check` test, which must agree.
 */
const EXPECTED_CODES: readonly [RegExp, ErrorCode][] = [
  [/@expired$/, 'RESPONSE_EXPIRED'],
  [/@not-yet-valid$/, 'RESPONSE_NOT_YET_VALID'],
  [/^(WSNIC|WKIC|WIKH|WINH)_/, 'RESPONSE_CERTID_MISMATCH'],
  [/^ISOP_/, 'RESPONSE_UNVERIFIED'],
  [/^(ISDOSC|WKDOSC|WRID)_/, 'RESPONDER_UNAUTHORIZED'],
  [/^go-malformedRequest$/, 'RESPONSE_MALFORMED_REQUEST'],
  [/^go-unauthorized-/, 'RESPONDER_UNAUTHORIZED'],
];

export function expectedCode(testCase: ConformanceCase): ErrorCode | undefined {
  return EXPECTED_CODES.find(([pattern]) => pattern.test(testCase.id))?.[1];
}

/**
 * Declares the corpus tests when the corpus is there. Without it: under CI=true a failing test (CI must run every
 * case), elsewhere a visible warning and a skipped block (a clone used outside this workspace).
 */
export function describeWithCorpus(title: string, body: () => void): void {
  if (isConformanceCorpusPresent()) {
    describe(title, body);
  } else if (process.env.CI === 'true') {
    describe(title, () => {
      it('is present in CI', () => {
        throw new Error(`conformance corpus missing: expected ${CONFORMANCE_DIR}`);
      });
    });
  } else {
    console.warn(`OCSP conformance corpus missing (${CONFORMANCE_DIR}): "${title}" skipped`);
    describe.skip(`${title} (corpus missing)`, () => {
      it('needs the corpus', () => {
        expect(isConformanceCorpusPresent()).toBe(true);
      });
    });
  }
}
