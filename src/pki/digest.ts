// Hashes for OCSP CertIDs and responder key ids, chosen by the OID a request or response names (RFC 6960 4.1.1).
import { hash } from 'node:crypto';
import { OID } from './oids.js';

const NODE_HASH_BY_OID: Readonly<Record<string, string>> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/** Whether a CertID hash algorithm is one staplerd can recompute (SHA-1/256/384/512). */
export function isSupportedHashOid(oid: string): boolean {
  return Object.prototype.hasOwnProperty.call(NODE_HASH_BY_OID, oid);
}

export function digestByOid(oid: string, data: Uint8Array): Uint8Array {
  const name = NODE_HASH_BY_OID[oid];
  if (!name) throw new Error(`unsupported hash algorithm ${oid}`);
  return new Uint8Array(hash(name, data, 'buffer'));
}

/**
 * A warm pass hashes each certificate and staple it reads (the memo keys): node's one-shot hash() skips the Hash
 * object createHash() builds, about a third of the cost of a 1.5 KiB certificate's hash (docs/performance.md).
 */
export function computeSha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}
