// Throwaway key pairs for the demo/test CA, and signing bytes with them under a chosen hash.
import { KeyObject, sign as signWithNode, webcrypto } from 'node:crypto';

export type KeyAlgorithm = 'ec-p256' | 'rsa-2048';
export type CryptoKey = webcrypto.CryptoKey;
export type SignatureHash = 'SHA-256' | 'SHA-1';

export interface KeyPair {
  readonly algorithm: KeyAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

/** An X.509 AlgorithmIdentifier for a signature: RSA ones carry NULL parameters, ECDSA ones none (RFC 5758 3.2). */
export interface SignatureAlgorithm {
  readonly oid: string;
  readonly nullParameters: boolean;
}

const GENERATE_PARAMETERS = {
  'ec-p256': { name: 'ECDSA', namedCurve: 'P-256' },
  // 65537, the only public exponent anyone uses (and the one WebCrypto implementations are required to accept).
  'rsa-2048': { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
} as const;

// RFC 5758 3.2 (ecdsa-with-SHA256), RFC 3279 2.2.3 (ecdsa-with-SHA1), RFC 4055 5 / RFC 3279 2.2.1 (RSA PKCS#1 v1.5).
const SIGNATURE_OIDS: Record<KeyAlgorithm, Record<SignatureHash, string>> = {
  'ec-p256': { 'SHA-256': '1.2.840.10045.4.3.2', 'SHA-1': '1.2.840.10045.4.1' },
  'rsa-2048': { 'SHA-256': '1.2.840.113549.1.1.11', 'SHA-1': '1.2.840.113549.1.1.5' },
};

/** Generates an extractable key pair (extractable so tests can hand the key to openssl, nginx or HAProxy). */
export async function generateKeyPair(algorithm: KeyAlgorithm = 'ec-p256'): Promise<KeyPair> {
  const pair = (await webcrypto.subtle.generateKey(GENERATE_PARAMETERS[algorithm], true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  return { algorithm, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** The private key as a PKCS#8 "PRIVATE KEY" PEM block (RFC 7468 section 10). */
export async function exportPrivateKeyPem(keys: KeyPair): Promise<string> {
  return KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The DER SubjectPublicKeyInfo of the public key, as it goes into a certificate. */
export async function exportPublicKeyDer(keys: KeyPair): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
}

export function signatureAlgorithmFor(keys: KeyPair, hash: SignatureHash): SignatureAlgorithm {
  return { oid: SIGNATURE_OIDS[keys.algorithm][hash], nullParameters: keys.algorithm === 'rsa-2048' };
}

/**
 * Signs with node:crypto rather than WebCrypto: a WebCrypto RSA key is bound to the hash it was generated with, and
 * tests need SHA-1 signatures from the same keys. ECDSA signatures come out DER-encoded, as X.509 wants (RFC 3279 2.2.3).
 */
export function signBytes(keys: KeyPair, data: Uint8Array, hash: SignatureHash): Uint8Array {
  const digest = hash === 'SHA-1' ? 'sha1' : 'sha256';
  const key = KeyObject.from(keys.privateKey);
  return new Uint8Array(signWithNode(digest, data, { key, dsaEncoding: 'der' }));
}
