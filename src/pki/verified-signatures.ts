// Remembers signatures that verified, so a sweep over unchanged certificates and staples (every daemon pass, or a
// restart with the memo loaded from the state directory) does not redo thousands of public-key operations.
//
// The key is a SHA-256 over everything the verdict depends on: the public key (SPKI DER), the signature algorithm
// identifier, the signature and the signed bytes. A fact "this key verifies this signature over these bytes" never
// changes, so an entry cannot go stale: a changed certificate, staple or issuer is different bytes, hence a different
// key, hence a real verification. Only positive results are remembered; everything else about a staple (CertID,
// times against the clock, nonce, responder authorisation) is checked on every use as before.
import { createHash } from 'node:crypto';
import type { SignedBytes } from './signature.js';
import { UsageTrackedMemo } from './usage-tracked-memo.js';

/** Part of every key: bump it whenever what verifySignedBytes accepts changes, and old entries stop matching. */
const KEY_DOMAIN = 'staplerd verified signature v1\0';

/** The memo is cleared rather than grown past this (about 100 MB would be 1M entries; a sweep needs 2 per certificate). */
const MAX_ENTRIES = 250_000;

/** Base64 of the SHA-256 key (44 characters). */
export function signatureMemoKey(subjectPublicKeyInfoDer: Uint8Array, signed: SignedBytes): string {
  const hash = createHash('sha256').update(KEY_DOMAIN);
  const length = Buffer.alloc(4);
  for (const part of [subjectPublicKeyInfoDer, signed.algorithmDer, signed.signature, signed.data]) {
    // Length-prefixed, so no two different inputs concatenate to the same bytes.
    length.writeUInt32BE(part.length);
    hash.update(length).update(part);
  }
  return hash.digest('base64');
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
