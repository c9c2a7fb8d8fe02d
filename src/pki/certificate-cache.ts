// Parsed certificates by the SHA-256 of their DER: each distinct certificate is parsed once and shared (one object,
// one imported key), for a pass over certificate files and for the Node TLS handler's handshakes alike.
import { toStaplerdError, type StaplerdError } from '../errors/index.js';
import { Certificate } from './certificate.js';
import { equalBytes } from './der.js';
import { computeSha256Hex } from './digest.js';
import type { CertificateBlock } from './pem.js';
import type { ValidationMemos } from './validation-memos.js';

export interface CertificateCacheOptions {
  /** Past this many certificates the least recently used one goes; default unbounded (a pass's cache ends with it). */
  readonly maxEntries?: number;
  /** A pass's memos: what parseOwned and parseBlock decode is remembered there; none for the Node TLS handler. */
  readonly memos?: ValidationMemos;
}

export class CertificateCache {
  /** Certificates, and (parseShared only) the error a DER that is none gave, so it is parsed and reported once. */
  readonly #byFingerprint = new Map<string, Certificate | StaplerdError>();
  /** CA certificates by their PEM text: equal text is equal DER, so the decode and the hash are skipped too. */
  readonly #byPemBody = new Map<string, Certificate>();
  /**
   * The lengths of those texts. A block of another length (nearly every leaf) cannot be one of them and is not looked
   * up: a Map lookup hashes the whole 1-2 KiB text, which cost a warm pass over 10,000 files tens of milliseconds.
   */
  readonly #pemBodyLengths = new Set<number>();
  readonly #maxEntries: number;
  /** The memos handed to this cache, for callers that parse or verify beside it (issuer resolution). */
  readonly memos: ValidationMemos | undefined;

  constructor(options: CertificateCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? Number.POSITIVE_INFINITY;
    this.memos = options.memos;
  }

  /** One PEM block of a certificate file: every fullchain file of a CA carries the same intermediate. */
  parseBlock(block: CertificateBlock, file: string): Certificate {
    const body = block.pemBody;
    const known = body !== undefined && this.#pemBodyLengths.has(body.length) ? this.#byPemBody.get(body) : undefined;
    if (known) return known;
    const certificate = this.parseOwned(block.decode(), file);
    // Only CAs recur across files; remembering every leaf's text would only cost memory.
    if (body !== undefined && certificate.summary.isCA) {
      this.#byPemBody.set(body, certificate);
      this.#pemBodyLengths.add(body.length);
    }
    return certificate;
  }

  /** `der` must be bytes nobody else holds (a fresh decode): the certificate keeps them. Throws CERT_PARSE_FAILED. */
  parseOwned(der: Uint8Array, file: string): Certificate {
    const fingerprint = computeSha256Hex(der);
    const known = this.#find(fingerprint, der);
    if (known instanceof Certificate) return this.#remember(fingerprint, known) as Certificate;
    return this.#remember(fingerprint, Certificate.fromOwnedDer(der, fingerprint, file, this.memos)) as Certificate;
  }

  /**
   * Bytes the caller keeps using (Node's handshake certificates): parsed from a copy, or undefined when they are no
   * certificate. A server presents the same few on every handshake, bad ones included: onFirstError hears of each
   * distinct bad DER once, not on every handshake.
   */
  parseShared(der: Uint8Array, onFirstError: (error: StaplerdError) => void): Certificate | undefined {
    const fingerprint = computeSha256Hex(der);
    let entry = this.#find(fingerprint, der);
    if (entry === undefined) {
      entry = parseQuietly(der, this.memos);
      if (!(entry instanceof Certificate)) onFirstError(entry);
    }
    this.#remember(fingerprint, entry);
    return entry instanceof Certificate ? entry : undefined;
  }

  /** The entry for these exact bytes (a certificate's own bytes are compared: the hash alone is not trusted). */
  #find(fingerprint: string, der: Uint8Array): Certificate | StaplerdError | undefined {
    const known = this.#byFingerprint.get(fingerprint);
    return known instanceof Certificate && !equalBytes(known.der, der) ? undefined : known;
  }

  #remember(fingerprint: string, entry: Certificate | StaplerdError): Certificate | StaplerdError {
    // Re-inserting moves the key to the end of the Map's order, which makes the first key the least recently used.
    this.#byFingerprint.delete(fingerprint);
    this.#byFingerprint.set(fingerprint, entry);
    if (this.#byFingerprint.size > this.#maxEntries) this.#byFingerprint.delete(this.#byFingerprint.keys().next().value!);
    return entry;
  }
}

function parseQuietly(der: Uint8Array, memos: ValidationMemos | undefined): Certificate | StaplerdError {
  try {
    return Certificate.fromDer(der, undefined, memos);
  } catch (error) {
    return toStaplerdError(error, 'CERT_PARSE_FAILED');
  }
}
