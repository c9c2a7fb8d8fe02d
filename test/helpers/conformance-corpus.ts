// Locates the shared OCSP conformance corpus (../shared/conformance from the project root) and loads its cases.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
