// Parses what an AIA caIssuers URL serves (RFC 5280 4.2.2.1): one DER certificate, PEM text, or a PKCS#7 "certs-only" bundle.
import * as asn1js from 'asn1js';
import { StaplerdError } from '../errors/index.js';
import { Certificate } from './certificate.js';
import type { ValidationMemos } from './validation-memos.js';
import { readChildren, decodeComplete, expectOid, expectSequence, unwrapExplicit, isContextTag, readEncoding } from './der.js';
import { OID } from './oids.js';
import { isCertificateLabel, listPemBlocks } from './pem.js';

// RFC 7468 8 names PKCS#7 "PKCS7"; OpenSSL and some CAs also write "CMS".
const PKCS7_LABELS = new Set(['PKCS7', 'CMS']);

/** Every certificate in the bundle, in bundle order; fails if there is none or anything does not parse. */
export function parseCertificateBundle(bytes: Uint8Array, source: string, memos?: ValidationMemos): Certificate[] {
  let certificates: Certificate[];
  try {
    certificates = readBundle(bytes, memos);
  } catch (error) {
    throw bundleError(source, error instanceof Error ? error.message : String(error), error);
  }
  if (certificates.length === 0) throw bundleError(source, 'contains no certificate');
  return certificates;
}

function readBundle(bytes: Uint8Array, memos: ValidationMemos | undefined): Certificate[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (text.includes('-----BEGIN ')) return readPemBundle(text, memos);
  return readDerBundle(bytes, memos);
}

function readPemBundle(text: string, memos: ValidationMemos | undefined): Certificate[] {
  const certificates: Certificate[] = [];
  for (const block of listPemBlocks(text)) {
    if (isCertificateLabel(block.label)) certificates.push(Certificate.fromDer(block.decode(), undefined, memos));
    else if (PKCS7_LABELS.has(block.label)) certificates.push(...readPkcs7(block.decode(), memos));
  }
  return certificates;
}

function readDerBundle(bytes: Uint8Array, memos: ValidationMemos | undefined): Certificate[] {
  return isPkcs7(bytes) ? readPkcs7(bytes, memos) : [Certificate.fromDer(bytes, undefined, memos)];
}

/** ContentInfo starts with its contentType OID; a certificate starts with a SEQUENCE (tbsCertificate). */
function isPkcs7(bytes: Uint8Array): boolean {
  try {
    const [contentType] = expectSequence(decodeComplete(bytes, 'bundle'), 'bundle');
    return contentType instanceof asn1js.ObjectIdentifier;
  } catch {
    return false;
  }
}

/**
 * ContentInfo { contentType signedData, content [0] EXPLICIT SignedData } (RFC 2315 7, 9.1; RFC 5652 5.1):
 * SignedData { version, digestAlgorithms, contentInfo, certificates [0] IMPLICIT SET OF CertificateChoices OPTIONAL, ... }.
 * "certs-only" bundles carry no signers; nothing here is verified, the certificates are only candidates.
 */
function readPkcs7(der: Uint8Array, memos: ValidationMemos | undefined): Certificate[] {
  const [contentType, content] = expectSequence(decodeComplete(der, 'PKCS#7'), 'ContentInfo');
  if (expectOid(contentType, 'contentType') !== OID.pkcs7SignedData) throw new Error('PKCS#7 content is not signedData');
  if (!isContextTag(content, 0)) throw new Error('PKCS#7 signedData has no content');
  const signedData = expectSequence(unwrapExplicit(content, 'content'), 'SignedData');
  const certificateSet = signedData.slice(3).find((field) => isContextTag(field, 0));
  if (!certificateSet) return [];
  // CertificateChoices: only plain certificates (SEQUENCE); obsolete extended/attribute certificates are tagged.
  return readChildren(certificateSet, 'certificates')
    .filter((choice) => choice instanceof asn1js.Sequence)
    .map((choice) => Certificate.fromDer(readEncoding(choice), undefined, memos));
}

/** Names the source as a URL when it is one (AIA downloads), else as a file. */
function bundleError(source: string, reason: string, cause?: unknown): StaplerdError {
  const context = /^[a-z][a-z0-9+.-]*:\/\//i.test(source) ? { url: source } : { file: source };
  return new StaplerdError('CERT_PARSE_FAILED', `${source}: not a certificate bundle (${reason})`, context, { cause });
}
