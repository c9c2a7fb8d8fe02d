// Reads one certificate file (leaf, full chain, certbot layout or HAProxy combined PEM) into its leaf and chain.
import { StaplerdError } from '../errors/index.js';
import { DEFAULT_MAX_CERTIFICATE_FILE_BYTES, readRegularFileSync } from '../fs/read-regular-file.js';
import type { Certificate } from '../pki/certificate.js';
import { CertificateCache } from '../pki/certificate-cache.js';
import { computeSha256Hex } from '../pki/digest.js';
import { listCertificateBlocks } from '../pki/pem.js';

export type LoadedCertificateFile =
  | { readonly kind: 'leaf'; readonly file: string; readonly leaf: Certificate; readonly chain: readonly Certificate[] }
  /** Keys only, DH parameters, CA-only bundles (certbot's chain.pem): skipped quietly. */
  | { readonly kind: 'no-leaf'; readonly file: string; readonly chain: readonly Certificate[] };

/** Caps on one certificate file (config `maxCertificateFileSize`, `maxCertificatesPerFile`). */
export interface CertificateFileLimits {
  readonly maxFileBytes: number;
  readonly maxCertificates: number;
}

/**
 * A full chain holds 2-5 certificates and Mozilla's root bundle about 150; a 200 MB file took 1.3 GB and 10 s of
 * synchronous parsing, blocking the daemon, so anything beyond these is refused before it is parsed.
 */
export const DEFAULT_CERTIFICATE_FILE_LIMITS: CertificateFileLimits = {
  maxFileBytes: DEFAULT_MAX_CERTIFICATE_FILE_BYTES,
  // Chains hold 2-5 certificates, CA bundles given as issuerDir ~150.
  maxCertificates: 256,
};

export async function loadCertificateFile(
  file: string,
  cache?: CertificateCache,
  limits: CertificateFileLimits = DEFAULT_CERTIFICATE_FILE_LIMITS,
): Promise<LoadedCertificateFile> {
  // One synchronous read: certificate files are small and local, and fs.readFile's four thread-pool round trips
  // cost ten times the main-thread time of the syscalls themselves (docs/performance.md). The bounded reader keeps
  // that cost and refuses FIFOs, devices and oversized files (FILE_NOT_REGULAR, FILE_TOO_LARGE) before reading.
  let bytes: Uint8Array;
  try {
    bytes = readRegularFileSync(file, { maxBytes: limits.maxFileBytes });
  } catch (error) {
    if (error instanceof StaplerdError) throw error;
    throw new StaplerdError('CERT_UNREADABLE', `cannot read certificate file: ${(error as Error).message}`, { file }, { cause: error });
  }
  return parseCertificateFileBytes(bytes, file, cache, limits.maxCertificates);
}

export function parseCertificateFileBytes(
  bytes: Uint8Array,
  file: string,
  cache: CertificateCache = new CertificateCache(),
  maxCertificates: number = DEFAULT_CERTIFICATE_FILE_LIMITS.maxCertificates,
): LoadedCertificateFile {
  // Private key blocks are skipped by listCertificateBlocks without being decoded; `bytes` goes out of scope here.
  // Each certificate's DER is a fresh decode (or copy), checked completely when it is parsed. Blocks are counted
  // before any is decoded, so an oversized bundle costs a text scan, not thousands of parses.
  const blocks = listCertificateBlocks(bytes, file);
  if (blocks.length > maxCertificates) {
    throw new StaplerdError('CERT_LIMIT_EXCEEDED', `${file} holds ${blocks.length} certificates, more than the ${maxCertificates} allowed (maxCertificatesPerFile); it is not parsed`, { file });
  }
  const certificates = blocks.map((block) => cache.parseBlock(block, file));
  // The leaf is the first certificate that is not a CA: full chains and HAProxy files put it first, but a
  // hand-made bundle may not.
  const leafIndex = certificates.findIndex((cert) => !cert.summary.isCA);
  if (leafIndex < 0) return { kind: 'no-leaf', file, chain: certificates };
  const chain = certificates.filter((_, index) => index !== leafIndex);
  return { kind: 'leaf', file, leaf: certificates[leafIndex]!, chain };
}

/** A file read once for its fingerprints: the bytes, for parsing them without reading the file again. */
export interface FingerprintedFile {
  readonly bytes: Uint8Array;
  /** The SHA-256 of each certificate's DER, in file order. */
  readonly fingerprints: readonly string[];
}

/**
 * The SHA-256 fingerprints of a file's certificates in file order, decoded but not parsed (a hash costs a few
 * microseconds, an asn1js parse half a millisecond): a pass reads every file this way first, so it knows which
 * files may share a leaf before it has parsed them all and can start fetching early (issue 13). Undefined when the
 * file cannot be read or decoded; loadCertificateFile then reports why.
 */
export function fingerprintCertificateFile(
  file: string,
  limits: CertificateFileLimits = DEFAULT_CERTIFICATE_FILE_LIMITS,
  /** Fingerprints by PEM text, kept by the caller: the CA in every fullchain file is decoded and hashed once. */
  byPemBody: Map<string, string> = new Map(),
): FingerprintedFile | undefined {
  try {
    const bytes = readRegularFileSync(file, { maxBytes: limits.maxFileBytes });
    const blocks = listCertificateBlocks(bytes, file);
    if (blocks.length > limits.maxCertificates) return undefined;
    const fingerprints = blocks.map((block, index) => {
      const known = block.pemBody === undefined ? undefined : byPemBody.get(block.pemBody);
      if (known !== undefined) return known;
      const fingerprint = computeSha256Hex(block.decode());
      // Only what recurs across files is worth keeping: the certificates after a file's first (its chain).
      if (block.pemBody !== undefined && index > 0) byPemBody.set(block.pemBody, fingerprint);
      return fingerprint;
    });
    return { bytes, fingerprints };
  } catch {
    return undefined;
  }
}
