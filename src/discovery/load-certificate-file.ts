// Reads one certificate file (leaf, full chain, certbot layout or HAProxy combined PEM) into its leaf and chain.
import { readFileSync } from 'node:fs';
import { StaplerdError } from '../errors/index.js';
import { Certificate } from '../pki/certificate.js';
import { equalBytes } from '../pki/der.js';
import { computeSha256Hex } from '../pki/digest.js';
import { listCertificateBlocks, type CertificateBlock } from '../pki/pem.js';

export type LoadedCertificateFile =
  | { readonly kind: 'leaf'; readonly file: string; readonly leaf: Certificate; readonly chain: readonly Certificate[] }
  /** Keys only, DH parameters, CA-only bundles (certbot's chain.pem): skipped quietly. */
  | { readonly kind: 'no-leaf'; readonly file: string; readonly chain: readonly Certificate[] };

/**
 * Parsed certificates by the SHA-256 of their DER, for one pass: every fullchain file of a CA carries the same
 * intermediate, which is then parsed once and shared (one object, one imported key) instead of once per file.
 */
export class CertificateCache {
  readonly #byFingerprint = new Map<string, Certificate>();
  /** CA certificates by their PEM text: equal text is equal DER, so the decode and the hash are skipped too. */
  readonly #byPemBody = new Map<string, Certificate>();

  parseBlock(block: CertificateBlock, file: string): Certificate {
    const known = block.pemBody === undefined ? undefined : this.#byPemBody.get(block.pemBody);
    if (known) return known;
    const certificate = this.parseOwned(block.decode(), file);
    // Only CAs recur across files; remembering every leaf's text would only cost memory.
    if (block.pemBody !== undefined && certificate.summary.isCA) this.#byPemBody.set(block.pemBody, certificate);
    return certificate;
  }

  /** `der` must be bytes nobody else holds (a fresh decode): the certificate keeps them. */
  parseOwned(der: Uint8Array, file: string): Certificate {
    const fingerprint = computeSha256Hex(der);
    const known = this.#byFingerprint.get(fingerprint);
    if (known && equalBytes(known.der, der)) return known;
    const certificate = Certificate.fromOwnedDer(der, fingerprint, file);
    this.#byFingerprint.set(fingerprint, certificate);
    return certificate;
  }
}

export async function loadCertificateFile(file: string, cache?: CertificateCache): Promise<LoadedCertificateFile> {
  // One synchronous read: certificate files are small and local, and fs.readFile's four thread-pool round trips
  // cost ten times the main-thread time of the syscalls themselves (docs/performance.md).
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new StaplerdError('CERT_UNREADABLE', `cannot read certificate file: ${(error as Error).message}`, { file });
  }
  return parseCertificateFileBytes(bytes, file, cache);
}

export function parseCertificateFileBytes(bytes: Uint8Array, file: string, cache: CertificateCache = new CertificateCache()): LoadedCertificateFile {
  // Private key blocks are skipped by listCertificateBlocks without being decoded; `bytes` goes out of scope here.
  // Each certificate's DER is a fresh decode (or copy), checked completely when it is parsed.
  const certificates = listCertificateBlocks(bytes, file).map((block) => cache.parseBlock(block, file));
  // The leaf is the first certificate that is not a CA: full chains and HAProxy files put it first, but a
  // hand-made bundle may not.
  const leafIndex = certificates.findIndex((cert) => !cert.summary.isCA);
  if (leafIndex < 0) return { kind: 'no-leaf', file, chain: certificates };
  const chain = certificates.filter((_, index) => index !== leafIndex);
  return { kind: 'leaf', file, leaf: certificates[leafIndex]!, chain };
}
