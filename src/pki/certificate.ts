// One parsed X.509 certificate: its DER, the plain summary staplerd works with, and issuer/signature checks.
import { pkijs } from './crypto-engine.js';
import { StaplerdError } from '../errors/index.js';
import type { CertificateSummary } from './types.js';
import { equalBytes, decodeComplete, readEncoding, serialToHex } from './der.js';
import { computeSha256Hex } from './digest.js';
import { encodePem } from './pem.js';
import { verifySignedBytes, type SignedBytes } from './signature.js';
import { formatName, readCertificateFields, readExtensionFacts, type RawCertificateFields } from './x509-fields.js';

export class Certificate {
  readonly der: Uint8Array;
  readonly summary: CertificateSummary;
  /** The subject Name exactly as encoded: what RFC 6960 4.1.1 issuerNameHash covers and responderID byName compares. */
  readonly subjectNameDer: Uint8Array;
  readonly issuerNameDer: Uint8Array;
  /** The subjectPublicKey BIT STRING value: what issuerKeyHash and responderID byKey hash (RFC 6960 4.1.1, 4.2.1). */
  readonly publicKeyBits: Uint8Array;
  /** extKeyUsage purposes (OIDs); a delegated OCSP responder needs id-kp-OCSPSigning (RFC 6960 4.2.2.2). */
  readonly extendedKeyUsages: readonly string[];
  /** The serial number INTEGER contents as encoded, for CertIDs. */
  readonly serialNumber: Uint8Array;
  readonly #publicKeyInfo: pkijs.PublicKeyInfo;
  readonly #signed: SignedBytes;

  private constructor(der: Uint8Array, parsed: pkijs.Certificate, fields: RawCertificateFields) {
    const facts = readExtensionFacts(fields.extensions);
    this.der = der;
    this.subjectNameDer = readEncoding(fields.subjectName);
    this.issuerNameDer = readEncoding(fields.issuerName);
    this.publicKeyBits = fields.publicKeyBits;
    this.extendedKeyUsages = facts.extendedKeyUsages;
    this.serialNumber = fields.serial;
    this.#publicKeyInfo = parsed.subjectPublicKeyInfo;
    this.#signed = { data: fields.tbsDer, signature: fields.signature, algorithmDer: fields.signatureAlgorithmDer };
    this.summary = {
      serialHex: serialToHex(fields.serial),
      subject: formatName(fields.subjectName),
      issuer: formatName(fields.issuerName),
      notBefore: parsed.notBefore.value,
      notAfter: parsed.notAfter.value,
      isCA: facts.isCA,
      ocspUrls: facts.ocspUrls,
      caIssuersUrls: facts.caIssuersUrls,
      mustStaple: facts.mustStaple,
      fingerprintSha256: computeSha256Hex(der),
    };
  }

  /** Parses one DER certificate; anything else (trailing bytes included) is CERT_PARSE_FAILED naming the file. */
  static fromDer(der: Uint8Array, file?: string): Certificate {
    const copy = new Uint8Array(der);
    try {
      const decoded = decodeComplete(copy, 'certificate');
      const parsed = new pkijs.Certificate({ schema: decoded });
      return new Certificate(copy, parsed, readCertificateFields(decoded));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new StaplerdError('CERT_PARSE_FAILED', `${file ?? 'certificate'}: not a valid X.509 certificate (${reason})`, { file }, { cause: error });
    }
  }

  /** Whether this certificate's public key verifies `signed`. */
  verifies(signed: SignedBytes): Promise<boolean> {
    return verifySignedBytes(this.#publicKeyInfo, signed);
  }

  /** candidate's subject equals this issuer Name (DER compared) and candidate's key verifies this certificate's signature. */
  async isIssuedBy(candidate: Certificate): Promise<boolean> {
    if (!equalBytes(candidate.subjectNameDer, this.issuerNameDer)) return false;
    return candidate.verifies(this.#signed);
  }

  /** notBefore <= at <= notAfter (RFC 5280 4.1.2.5). */
  isValidAt(at: Date): boolean {
    return this.summary.notBefore.getTime() <= at.getTime() && at.getTime() <= this.summary.notAfter.getTime();
  }

  toPem(): string {
    return encodePem('CERTIFICATE', this.der);
  }
}
