// Verifies an X.509/OCSP signature with a public key: RSA PKCS#1 v1.5 and ECDSA (P-256/384/521) with SHA-1/256/384/512
// through node:crypto, with the imported key cached and the check run on libuv's thread pool; any other algorithm
// (RSA-PSS, other curves, EdDSA) through pkijs and WebCrypto as before. A positive result is remembered in the
// verified-signature memo, keyed by a digest of exactly what was verified.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { decodeComplete, DerError, expectOid, expectSequence } from './der.js';
import { signatureMemoKey, type SignatureMemo } from './verified-signatures.js';

export interface SignedBytes {
  /** The exact bytes that were signed (the original encoding of tbsCertificate / tbsResponseData). */
  readonly data: Uint8Array;
  /** The signature BIT STRING value. */
  readonly signature: Uint8Array;
  /** DER of the signatureAlgorithm AlgorithmIdentifier. */
  readonly algorithmDer: Uint8Array;
}

interface FastAlgorithm {
  readonly hash: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  readonly keyType: 'rsa' | 'ec';
}

/** RFC 4055 / RFC 3279 / RFC 5758 signature algorithm OIDs that node:crypto verifies exactly as WebCrypto did. */
const FAST_ALGORITHMS: ReadonlyMap<string, FastAlgorithm> = new Map([
  ['1.2.840.113549.1.1.5', { hash: 'sha1', keyType: 'rsa' }],
  ['1.2.840.113549.1.1.11', { hash: 'sha256', keyType: 'rsa' }],
  ['1.2.840.113549.1.1.12', { hash: 'sha384', keyType: 'rsa' }],
  ['1.2.840.113549.1.1.13', { hash: 'sha512', keyType: 'rsa' }],
  ['1.2.840.10045.4.1', { hash: 'sha1', keyType: 'ec' }],
  ['1.2.840.10045.4.3.2', { hash: 'sha256', keyType: 'ec' }],
  ['1.2.840.10045.4.3.3', { hash: 'sha384', keyType: 'ec' }],
  ['1.2.840.10045.4.3.4', { hash: 'sha512', keyType: 'ec' }],
]);

/** The curves WebCrypto offers for ECDSA; keys on others keep going through pkijs, as before. */
const WEBCRYPTO_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/**
 * Imported keys by SPKI: every leaf of a CA is checked with the same key, and importing costs more than verifying.
 * Module-level on purpose, unlike the validation memos (validation-memos.ts): a pure function of the bytes, bounded,
 * never switched off or persisted, so every caller (pass, `check`, node-tls) may share it.
 */
const KEY_CACHE_LIMIT = 1024;
const keyCache = new Map<string, KeyObject | null>();

/**
 * True when the key in `subjectPublicKeyInfoDer` verifies the signature; false for a wrong key, a bad signature or an
 * unsupported algorithm. With `memo` (a pass's), a signature it remembers is not verified again; without, nothing is.
 */
export async function verifySignedBytes(subjectPublicKeyInfoDer: Uint8Array, signed: SignedBytes, memo?: SignatureMemo): Promise<boolean> {
  if (!memo) return verifyUncached(subjectPublicKeyInfoDer, signed);
  const memoKey = signatureMemoKey(subjectPublicKeyInfoDer, signed);
  if (memo.has(memoKey)) return true;
  const verified = await verifyUncached(subjectPublicKeyInfoDer, signed);
  if (verified) memo.add(memoKey);
  return verified;
}

/**
 * Whether `memo` remembers that this key verified exactly these bytes: verifySignedBytes' memo hit without its
 * promise, for callers that can then skip their own async steps (a warm pass judges 10,000 staples this way). An
 * unknown signature counts no lookup here: the caller goes on to verifySignedBytes, which counts it.
 */
export function isRememberedSignature(subjectPublicKeyInfoDer: Uint8Array, signed: SignedBytes, memo: SignatureMemo): boolean {
  const memoKey = signatureMemoKey(subjectPublicKeyInfoDer, signed);
  return memo.knows(memoKey) && memo.has(memoKey);
}

async function verifyUncached(subjectPublicKeyInfoDer: Uint8Array, signed: SignedBytes): Promise<boolean> {
  const algorithm = readFastAlgorithm(signed.algorithmDer);
  const key = algorithm && importKey(subjectPublicKeyInfoDer);
  if (!algorithm || !key || !suits(key, algorithm)) return verifyWithPkijs(subjectPublicKeyInfoDer, signed);
  return new Promise<boolean>((resolve) => {
    try {
      // The callback form runs on the thread pool, so the main thread parses the next file meanwhile.
      verify(algorithm.hash, signed.data, key, signed.signature, (error, result) => resolve(!error && result));
    } catch {
      resolve(false);
    }
  });
}

/** Fast-path entries by AlgorithmIdentifier DER: a sweep meets two or three distinct encodings (module-level like keyCache). */
const algorithmCache = new Map<string, FastAlgorithm | null>();

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }: the fast path's entry, if any. */
function readFastAlgorithm(algorithmDer: Uint8Array): FastAlgorithm | undefined {
  const id = Buffer.from(algorithmDer.buffer, algorithmDer.byteOffset, algorithmDer.byteLength).toString('latin1');
  const known = algorithmCache.get(id);
  if (known !== undefined) return known ?? undefined;
  let algorithm: FastAlgorithm | undefined;
  try {
    const [oid] = expectSequence(decodeComplete(algorithmDer, 'signatureAlgorithm'), 'signatureAlgorithm');
    algorithm = FAST_ALGORITHMS.get(expectOid(oid, 'algorithm'));
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
  }
  if (algorithmCache.size >= KEY_CACHE_LIMIT) algorithmCache.clear();
  algorithmCache.set(id, algorithm ?? null);
  return algorithm;
}

function importKey(subjectPublicKeyInfoDer: Uint8Array): KeyObject | null {
  const id = Buffer.from(subjectPublicKeyInfoDer.buffer, subjectPublicKeyInfoDer.byteOffset, subjectPublicKeyInfoDer.byteLength).toString('base64');
  let key = keyCache.get(id);
  if (key !== undefined) return key;
  try {
    key = createPublicKey({ key: Buffer.from(subjectPublicKeyInfoDer), format: 'der', type: 'spki' });
    // OpenSSL maps an EC key with explicit curve parameters onto the named curve they match; PKIX allows only named
    // curves (RFC 5480 section 2.1.1) and pkijs refuses the rest, so such a key must not verify here either.
    if (key.asymmetricKeyType === 'ec' && !hasNamedCurveParameters(subjectPublicKeyInfoDer)) key = null;
  } catch {
    key = null;
  }
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  keyCache.set(id, key);
  return key;
}

/** SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE { id, parameters }, key }: parameters is a namedCurve OID. */
function hasNamedCurveParameters(subjectPublicKeyInfoDer: Uint8Array): boolean {
  try {
    const [algorithm] = expectSequence(decodeComplete(subjectPublicKeyInfoDer, 'subjectPublicKeyInfo'), 'subjectPublicKeyInfo');
    const [, parameters] = expectSequence(algorithm, 'subjectPublicKeyInfo.algorithm');
    expectOid(parameters, 'namedCurve');
    return true;
  } catch (error) {
    if (error instanceof DerError) return false;
    throw error;
  }
}

function suits(key: KeyObject, algorithm: FastAlgorithm): boolean {
  if (key.asymmetricKeyType !== algorithm.keyType) return false;
  return algorithm.keyType === 'rsa' || WEBCRYPTO_CURVES.has(key.asymmetricKeyDetails?.namedCurve ?? '');
}

/** The previous path, for algorithms outside the table: pkijs maps the AlgorithmIdentifier onto WebCrypto. */
async function verifyWithPkijs(subjectPublicKeyInfoDer: Uint8Array, signed: SignedBytes): Promise<boolean> {
  try {
    const asn1js = await import('asn1js');
    const { pkijs } = await import('./crypto-engine.js');
    const publicKeyInfo = new pkijs.PublicKeyInfo({ schema: asn1js.fromBER(subjectPublicKeyInfoDer).result });
    const algorithm = new pkijs.AlgorithmIdentifier({ schema: asn1js.fromBER(signed.algorithmDer).result });
    const signature = new asn1js.BitString({ valueHex: signed.signature });
    return await pkijs.getCrypto(true).verifyWithPublicKey(signed.data, signature, publicKeyInfo, algorithm);
  } catch {
    // pkijs throws for unsupported algorithms and key/algorithm mismatches: either way the signature is not proven.
    return false;
  }
}
