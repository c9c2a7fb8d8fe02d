// Remembers signatures that verified, so a sweep over unchanged certificates and staples (every daemon pass, or a
// restart with the memo loaded from the state directory) does not redo thousands of public-key operations.
//
// The key is a SHA-256 over everything the verdict depends on: the public key (SPKI DER), the signature algorithm
// identifier, the signature and the signed bytes. A fact "this key verifies this signature over these bytes" never
// changes, so an entry cannot go stale: a changed certificate, staple or issuer is different bytes, hence a different
// key, hence a real verification. Only positive results are remembered; everything else about a staple (CertID,
// times against the clock, nonce, responder authorisation) is checked on every use as before.
import { hash } from 'node:crypto';
import type { SignedBytes } from './signature.js';
import { UsageTrackedMemo } from './usage-tracked-memo.js';

/** Part of every key: bump it whenever what verifySignedBytes accepts changes, and old entries stop matching. */
const KEY_DOMAIN = 'staplerd verified signature v1\0';

/** The memo is cleared rather than grown past this (about 100 MB would be 1M entries; a sweep needs 2 per certificate). */
const MAX_ENTRIES = 250_000;

const KEY_DOMAIN_BYTES = Buffer.from(KEY_DOMAIN, 'utf8');
/** Keys are hashed from one buffer (one-shot hash(), no Hash object per key); one this size is kept and reused. */
const KEPT_SCRATCH_BYTES = 16 * 1024;
const scratch = Buffer.allocUnsafe(KEPT_SCRATCH_BYTES);

/** Base64 of the SHA-256 key (44 characters). */
export function signatureMemoKey(subjectPublicKeyInfoDer: Uint8Array, signed: SignedBytes): string {
  const parts = [subjectPublicKeyInfoDer, signed.algorithmDer, signed.signature, signed.data];
  const size = parts.reduce((total, part) => total + 4 + part.length, KEY_DOMAIN_BYTES.length);
  // A CRL's signed bytes may be megabytes: hashed from a buffer of their own, not kept.
  const buffer = size <= scratch.length ? scratch : Buffer.allocUnsafe(size);
  let offset = KEY_DOMAIN_BYTES.copy(buffer, 0);
  for (const part of parts) {
    // Length-prefixed, so no two different inputs concatenate to the same bytes.
    offset = buffer.writeUInt32BE(part.length, offset);
    buffer.set(part, offset);
    offset += part.length;
  }
  return hash('sha256', buffer.subarray(0, offset), 'base64');
}

/** Keys of signatures that verified (only positive results are remembered). */
export class SignatureMemo extends UsageTrackedMemo<true> {
  constructor() {
    super(MAX_ENTRIES);
  }

  /** Whether `key` verified before; marks it used in the current generation. */
  has(key: string): boolean {
    return this.get(key) === true;
  }

  add(key: string): void {
    this.set(key, true);
  }

  /** Keys read back from the state directory. */
  restoreKeys(keys: Iterable<string>): void {
    this.restore((function* () {
      for (const key of keys) yield [key, true] as const;
    })());
  }
}
