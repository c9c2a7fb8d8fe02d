// Keeps the validation memos across restarts, in the state directory, so a restart over thousands of fresh staples
// repeats no public-key operation and no ASN.1 decode:
// - verified-signatures.bin: the verified-signature memo (src/pki/verified-signatures.ts), only "this key verified
//   this signature over these bytes", as SHA-256 digests of exactly those inputs;
// - decoded-facts.bin: what asn1js read out of each certificate and staple (src/pki/decoded-facts.ts), keyed by the
//   SHA-256 of their bytes, byte fields as offsets into them.
// Every staple and certificate is still read and checked (CertID, issuer, responder authorisation, thisUpdate/
// nextUpdate against the clock) on every pass, and changed bytes miss both memos and are decoded and verified for real.
// Anyone who can write these files could make staplerd accept a forged staple, like anyone who can write the staple
// files themselves: they are created 0600 and ignored unless they belong to this user and nobody else can write them.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { StaplerdError } from '../errors/index.js';
import { writeFileAtomic } from '../output/atomic-write.js';
import type { SignatureMemo } from '../pki/verified-signatures.js';
import { decoderFingerprint, normalizeCertificateFacts } from '../pki/decoded-facts.js';
import type { ValidationMemos } from '../pki/validation-memos.js';
import { encodeDecodedFacts, openDecodedFacts } from './decoded-facts-file.js';
import { corruptStateFile as corrupt, readOwnStateFile } from './read-own-state-file.js';
import { VERSION } from '../version.js';

const CACHE_FILE = 'verified-signatures.bin';
const FACTS_FILE = 'decoded-facts.bin';
/** Where earlier builds kept the decoded facts, as JSON (format 2): never read now, removed by the next save. */
const LEGACY_FACTS_FILE = 'decoded-facts.json';
/** About 500 bytes per certificate and staple pair; 100,000 certificates fit with room to spare. */
const MAX_FACTS_FILE_BYTES = 256 * 2 ** 20;
/** File format: this 16-byte header, then 32-byte SHA-256 keys. Bump the version with any format change. */
const MAGIC = Buffer.from('staplerd-vsig-1\n', 'latin1');
const KEY_BYTES = 32;
/** Twice what 100,000 certificates need; a larger file is not ours. */
const MAX_FILE_BYTES = MAGIC.length + KEY_BYTES * 400_000;

export function validationCacheFilePath(stateDir: string): string {
  return path.join(stateDir, CACHE_FILE);
}

export function decodedFactsFilePath(stateDir: string): string {
  return path.join(stateDir, FACTS_FILE);
}

/** Entries read or written, per memo. */
export interface ValidationCacheCounts {
  readonly signatures: number;
  readonly certificates: number;
  readonly responses: number;
}

/**
 * Restores `memos` (the caller's: the ones its pass consults) from the state directory; returns how many entries
 * were read. A missing file is a first start;
 * a corrupt, foreign or group/world-writable one is reported through onProblem (STATE_CORRUPT) and ignored, which
 * only costs the verifications and decodes it would have saved.
 */
export async function loadValidationCache(stateDir: string, memos: ValidationMemos, onProblem: (error: StaplerdError) => void): Promise<ValidationCacheCounts> {
  const [signatures, facts] = await Promise.all([
    loadSignatures(stateDir, onProblem, memos.signatures),
    loadDecodedFacts(stateDir, onProblem, memos),
  ]);
  return { signatures, ...facts };
}

async function loadSignatures(stateDir: string, onProblem: (error: StaplerdError) => void, memo: SignatureMemo): Promise<number> {
  const file = validationCacheFilePath(stateDir);
  const bytes = await readOwnStateFile(file, MAX_FILE_BYTES, 'signature cache', onProblem);
  if (!bytes) return 0;
  if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC) || (bytes.length - MAGIC.length) % KEY_BYTES !== 0) {
    onProblem(corrupt('signature cache', file, 'unknown format'));
    return 0;
  }
  const keys: string[] = [];
  for (let offset = MAGIC.length; offset < bytes.length; offset += KEY_BYTES) keys.push(bytes.toString('base64', offset, offset + KEY_BYTES));
  memo.restoreKeys(keys);
  return keys.length;
}

async function loadDecodedFacts(stateDir: string, onProblem: (error: StaplerdError) => void, memos: ValidationMemos): Promise<{ certificates: number; responses: number }> {
  const none = { certificates: 0, responses: 0 };
  const file = decodedFactsFilePath(stateDir);
  const bytes = await readOwnStateFile(file, MAX_FACTS_FILE_BYTES, 'decoded-facts cache', onProblem);
  if (!bytes) return none;
  let opened: ReturnType<typeof openDecodedFacts>;
  try {
    opened = openDecodedFacts(bytes, describeDecodedFactsProducer());
  } catch (error) {
    onProblem(corrupt('decoded-facts cache', file, `unknown format (${(error as Error).message})`));
    return none;
  }
  // Another format or another version (an upgrade): a normal, quiet miss.
  if (opened.kind !== 'stored') return none;
  const { certificates, responses } = opened;
  // Read back, a certificate's shared strings are interned as a fresh decode would have them.
  memos.certificates.restoreStored({
    keys: certificates.keys,
    read: (index) => {
      const facts = certificates.read(index);
      return facts && normalizeCertificateFacts(facts);
    },
  });
  memos.responses.restoreStored(responses);
  return { certificates: certificates.keys.length, responses: responses.keys.length };
}

/** The JSON form an earlier build left: 4-5 MB for 10,000 certificates that nothing reads any more. Best effort. */
async function removeLegacyFactsFile(stateDir: string): Promise<void> {
  await rm(path.join(stateDir, LEGACY_FACTS_FILE), { force: true }).catch(() => undefined);
}

/** Who must have written a decoded-facts file for it to be used: this staplerd with this decoder (encodeDecodedFacts). */
export function describeDecodedFactsProducer(): string {
  return `staplerd-${VERSION} ${decoderFingerprint()}`;
}

/**
 * Saves the entries used since the previous save (the pass that just ran), forgetting the others, so the files
 * follow the certificates and staples on disk instead of growing. Atomic, mode 0600. Returns the entry counts.
 */
export async function saveValidationCache(stateDir: string, memos: ValidationMemos): Promise<ValidationCacheCounts> {
  const signatures = memos.signatures.takeUsedIfChanged();
  const certificates = memos.certificates.takeUsedIfChanged();
  const responses = memos.responses.takeUsedIfChanged();
  const signaturesFile = validationCacheFilePath(stateDir);
  const factsFile = decodedFactsFilePath(stateDir);
  const writes: Promise<void>[] = [];
  // A daemon pass over unchanged files uses exactly what it restored: nothing to rewrite (3.5 MB for 10,000).
  if (signatures.changed || !existsSync(signaturesFile)) {
    const used = signatures.entries();
    const body = Buffer.allocUnsafe(MAGIC.length + used.length * KEY_BYTES);
    MAGIC.copy(body, 0);
    used.forEach(([key], index) => body.write(key, MAGIC.length + index * KEY_BYTES, KEY_BYTES, 'base64'));
    writes.push(writeFileAtomic(signaturesFile, body, { mode: 0o600 }));
  }
  if (certificates.changed || responses.changed || !existsSync(factsFile)) {
    const entries = { certificates: certificates.entries(), responses: responses.entries() };
    writes.push(writeFileAtomic(factsFile, encodeDecodedFacts(entries, describeDecodedFactsProducer()), { mode: 0o600 }));
    writes.push(removeLegacyFactsFile(stateDir));
  }
  await Promise.all(writes);
  return { signatures: signatures.count, certificates: certificates.count, responses: responses.count };
}
