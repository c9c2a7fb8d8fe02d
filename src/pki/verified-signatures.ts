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

export class SignatureMemo {
  /** Key -> the generation it was last used in; -1 for entries restored from disk and not used yet. */
  readonly #entries = new Map<string, number>();
  #generation = 0;
  #hits = 0;
  #misses = 0;

  get size(): number {
    return this.#entries.size;
  }

  /** Lookups answered from the memo and lookups that needed a real verification, since the process started. */
  get statistics(): { readonly hits: number; readonly misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /** Whether `key` verified before; marks it used in the current generation. */
  has(key: string): boolean {
    if (!this.#entries.has(key)) {
      this.#misses += 1;
      return false;
    }
    this.#hits += 1;
    this.#entries.set(key, this.#generation);
    return true;
  }

  add(key: string): void {
    if (this.#entries.size >= MAX_ENTRIES && !this.#entries.has(key)) this.#entries.clear();
    this.#entries.set(key, this.#generation);
  }

  /** Entries read back from the state directory: known, but only saved again once used. */
  restore(keys: Iterable<string>): void {
    for (const key of keys) {
      if (this.#entries.size >= MAX_ENTRIES) break;
      if (!this.#entries.has(key)) this.#entries.set(key, -1);
    }
  }

  /**
   * The keys used (looked up or added) since the previous call, to be saved; every other entry is forgotten, so the
   * memo only holds what the current certificates and staples need. Starts a new generation.
   */
  takeUsed(): string[] {
    const used: string[] = [];
    for (const [key, generation] of this.#entries) {
      if (generation === this.#generation) used.push(key);
      else this.#entries.delete(key);
    }
    this.#generation += 1;
    return used;
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** The process-wide memo verifySignedBytes consults. */
export const signatureMemo = new SignatureMemo();
