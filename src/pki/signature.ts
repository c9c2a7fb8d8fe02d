// Verifies an X.509/OCSP signature with a public key through pkijs's engine (RSA PKCS#1 v1.5 incl. SHA-1, RSA-PSS, ECDSA).
import * as asn1js from 'asn1js';
import { pkijs } from './crypto-engine.js';

export interface SignedBytes {
  /** The exact bytes that were signed (the original encoding of tbsCertificate / tbsResponseData). */
  readonly data: Uint8Array;
  /** The signature BIT STRING value. */
  readonly signature: Uint8Array;
  /** DER of the signatureAlgorithm AlgorithmIdentifier. */
  readonly algorithmDer: Uint8Array;
}

/** True when `publicKeyInfo` verifies the signature; false for a wrong key, a bad signature or an unsupported algorithm. */
export async function verifySignedBytes(publicKeyInfo: pkijs.PublicKeyInfo, signed: SignedBytes): Promise<boolean> {
  try {
    const algorithm = new pkijs.AlgorithmIdentifier({ schema: asn1js.fromBER(signed.algorithmDer).result });
    const signature = new asn1js.BitString({ valueHex: signed.signature });
    return await pkijs.getCrypto(true).verifyWithPublicKey(signed.data, signature, publicKeyInfo, algorithm);
  } catch {
    // pkijs throws for unsupported algorithms and key/algorithm mismatches: either way the signature is not proven.
    return false;
  }
}
