// Reads one certificate file (leaf, full chain, certbot layout or HAProxy combined PEM) into its leaf and chain.
import { readFile } from 'node:fs/promises';
import { StaplerdError } from '../errors/index.js';
import { Certificate } from '../pki/certificate.js';
import { readCertificateFile } from '../pki/pem.js';

export type LoadedCertificateFile =
  | { readonly kind: 'leaf'; readonly file: string; readonly leaf: Certificate; readonly chain: readonly Certificate[] }
  /** Keys only, DH parameters, CA-only bundles (certbot's chain.pem): skipped quietly. */
  | { readonly kind: 'no-leaf'; readonly file: string; readonly chain: readonly Certificate[] };

export async function loadCertificateFile(file: string): Promise<LoadedCertificateFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new StaplerdError('CERT_UNREADABLE', `cannot read certificate file: ${(error as Error).message}`, { file });
  }
  return parseCertificateFileBytes(bytes, file);
}

export function parseCertificateFileBytes(bytes: Uint8Array, file: string): LoadedCertificateFile {
  // Private key blocks are skipped by readCertificateFile without being decoded; `bytes` goes out of scope here.
  const contents = readCertificateFile(bytes, file);
  const certificates = contents.certificates.map((der) => Certificate.fromDer(der, file));
  // The leaf is the first certificate that is not a CA: full chains and HAProxy files put it first, but a
  // hand-made bundle may not.
  const leafIndex = certificates.findIndex((cert) => !cert.summary.isCA);
  if (leafIndex < 0) return { kind: 'no-leaf', file, chain: certificates };
  const chain = certificates.filter((_, index) => index !== leafIndex);
  return { kind: 'leaf', file, leaf: certificates[leafIndex]!, chain };
}
