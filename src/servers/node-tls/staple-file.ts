// Loads one staple file: its DER bytes and, per SingleResponse, the CertID and times the handler indexes it by.
import { StaplerdError, toStaplerdError } from '../../errors/index.js';
import { MAX_STAPLE_FILE_BYTES, readRegularFileSync } from '../../fs/read-regular-file.js';
import { normalizeSerialHex } from '../../pki/der.js';
import { readBasicOcspResponse } from '../../pki/ocsp-response.js';
import type { CertStatus } from '../../pki/index.js';

/** One SingleResponse's CertID (RFC 6960 4.1.1) and times, as read without verifying anything. */
export interface StapleCertId {
  /** OID of the hash the CertID's issuerNameHash and issuerKeyHash use. */
  readonly hashAlgorithm: string;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  /** normalizeSerialHex form. */
  readonly serialHex: string;
  readonly certStatus: CertStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
}

/** One version of one staple file. New bytes give a new object, so anything cached per object is per version. */
export interface StapleFile {
  readonly file: string;
  readonly der: Buffer;
  readonly certIds: readonly StapleCertId[];
}

/** Reads and indexes the file; undefined when it vanished meanwhile. Throws StaplerdError naming the file. */
export async function loadStapleFile(file: string): Promise<StapleFile | undefined> {
  let der: Buffer;
  try {
    // Bounded and non-blocking: a FIFO or a link to /dev/zero among the staples must not stall the TLS server's
    // event loop (FILE_NOT_REGULAR, FILE_TOO_LARGE name the file).
    der = readRegularFileSync(file, { maxBytes: MAX_STAPLE_FILE_BYTES });
  } catch (error) {
    if (error instanceof StaplerdError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StaplerdError('STAPLE_UNREADABLE', `staple file cannot be read: ${(error as Error).message}`, { file }, { cause: error });
  }
  return parseStapleFile(file, der);
}

/** Indexes a DER OCSPResponse. Throws StaplerdError (RESPONSE_* codes) when it is not a successful basic response. */
export function parseStapleFile(file: string, der: Buffer): StapleFile {
  try {
    // One decode; error statuses and foreign response types get the same precise codes as inspectOcspResponse.
    const basic = readBasicOcspResponse(der);
    const certIds = basic.singles.map((single): StapleCertId => ({
      hashAlgorithm: single.hashAlgorithm,
      issuerNameHash: single.issuerNameHash,
      issuerKeyHash: single.issuerKeyHash,
      serialHex: normalizeSerialHex(single.serialHex),
      certStatus: single.certStatus,
      thisUpdate: single.thisUpdate,
      ...(single.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
    }));
    return { file, der, certIds };
  } catch (error) {
    throw toStaplerdError(error, 'RESPONSE_MALFORMED', { file }).withFile(file);
  }
}
