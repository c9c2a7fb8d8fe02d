// One parsed X.509 certificate: its DER, the plain summary staplerd works with, and issuer/signature checks.
// The DER is decoded once with asn1js; only the DER, the summary and the offsets of a few fields are kept (no asn1js
// tree, no pkijs objects, no views), so 10,000 certificates stay small in memory. Those facts are remembered by the
// DER's SHA-256 (decoded-facts.ts), so an unchanged certificate is not decoded again by the next pass or restart.
import { StaplerdError } from '../errors/index.js';
import type { CertificateSummary } from './types.js';
import { equalBytes, decodeComplete, readEncoding, serialToHex } from './der.js';
import { computeSha256Hex, digestByOid } from './digest.js';
import { encodePem } from './pem.js';
import { isRememberedSignature, verifySignedBytes, type SignedBytes } from './signature.js';
import { intern, internList } from './intern.js';
import { formatName, readCertificateFields, readExtensionFacts } from './x509-fields.js';
import { locateIn, rangesFit, type CertificateFacts } from './decoded-facts.js';
import type { ValidationMemos } from './validation-memos.js';

/** Where each field lies in `der` (start, end pairs): numbers instead of nine Uint8Array views per certificate. */
const enum Field {
  SubjectName = 0,
  IssuerName = 2,
  PublicKeyBits = 4,
  SubjectPublicKeyInfo = 6,
  Serial = 8,
  Tbs = 10,
  Signature = 12,
  SignatureAlgorithm = 14,
}

const NO_PURPOSES: readonly string[] = Object.freeze([]);

/**
 * Formatted issuer Names by their DER: thousands of certificates of one CA share one, formatted (and held) once.
 * Module-level on purpose, unlike the validation memos (validation-memos.ts): pure, bounded, never switched off or saved.
 */
const ISSUER_NAME_CACHE_LIMIT = 1024;
const issuerNames = new Map<string, string>();

function formatIssuerName(name: Parameters<typeof formatName>[0]): string {
  const der = readEncoding(name);
  const id = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
  let text = issuerNames.get(id);
  if (text === undefined) {
    text = intern(formatName(name));
    if (issuerNames.size >= ISSUER_NAME_CACHE_LIMIT) issuerNames.clear();
    issuerNames.set(id, text);
  }
  return text;
}

/** Decodes `der` with asn1js into the plain facts a Certificate keeps. Throws on anything but one valid certificate. */
function readCertificateFacts(der: Uint8Array): CertificateFacts {
  const fields = readCertificateFields(decodeComplete(der, 'certificate'));
  const extensions = readExtensionFacts(fields.extensions);
  // decodeComplete does not copy: every view lies in `der` itself, so its offsets are offsets into `der`.
  const ranges = [
    fields.subjectName, fields.issuerName, fields.publicKeyBits, fields.subjectPublicKeyInfoDer, fields.serial, fields.tbsDer,
    fields.signature, fields.signatureAlgorithmDer,
  ].flatMap((field) => locateIn(der, field instanceof Uint8Array ? field : readEncoding(field)));
  const [start, end] = locateIn(der, fields.encoding);
  if (start !== 0 || end !== der.byteLength) throw new Error('decoded certificate does not span the whole DER');
  return {
    serialHex: serialToHex(fields.serial),
    subject: formatName(fields.subjectName),
    // Thousands of certificates of one CA share these: one string each instead of one per certificate.
    issuer: formatIssuerName(fields.issuerName),
    notBeforeMs: fields.notBefore.getTime(),
    notAfterMs: fields.notAfter.getTime(),
    isCA: extensions.isCA,
    ocspUrls: internList(extensions.ocspUrls),
    caIssuersUrls: internList(extensions.caIssuersUrls),
    mustStaple: extensions.mustStaple,
    extendedKeyUsages: extensions.extendedKeyUsages.length === 0 ? NO_PURPOSES : extensions.extendedKeyUsages,
    ranges,
  };
}

export class Certificate {
  readonly der: Uint8Array;
  readonly summary: CertificateSummary;
  /** extKeyUsage purposes (OIDs); a delegated OCSP responder needs id-kp-OCSPSigning (RFC 6960 4.2.2.2). */
  readonly extendedKeyUsages: readonly string[];
  readonly #ranges: readonly number[];
  #pem?: string;
  /** Hashes of the subject Name and of the key bits by hash OID: an issuer is asked for them for every staple it
   *  signed, so a hit must cost no string or view (10,000 per warm pass). */
  #nameDigests?: Map<string, Uint8Array>;
  #keyDigests?: Map<string, Uint8Array>;

  private constructor(der: Uint8Array, facts: CertificateFacts, fingerprintSha256: string) {
    this.der = der;
    this.#ranges = facts.ranges;
    this.extendedKeyUsages = facts.extendedKeyUsages;
    this.summary = {
      serialHex: facts.serialHex,
      subject: facts.subject,
      issuer: facts.issuer,
      notBefore: new Date(facts.notBeforeMs),
      notAfter: new Date(facts.notAfterMs),
      isCA: facts.isCA,
      ocspUrls: facts.ocspUrls,
      caIssuersUrls: facts.caIssuersUrls,
      mustStaple: facts.mustStaple,
      fingerprintSha256,
    };
  }

  #field(field: Field): Uint8Array {
    return this.der.subarray(this.#ranges[field], this.#ranges[field + 1]);
  }

  /** The subject Name exactly as encoded: what RFC 6960 4.1.1 issuerNameHash covers and responderID byName compares. */
  get subjectNameDer(): Uint8Array {
    return this.#field(Field.SubjectName);
  }

  get issuerNameDer(): Uint8Array {
    return this.#field(Field.IssuerName);
  }

  /** The subjectPublicKey BIT STRING value: what issuerKeyHash and responderID byKey hash (RFC 6960 4.1.1, 4.2.1). */
  get publicKeyBits(): Uint8Array {
    return this.#field(Field.PublicKeyBits);
  }

  /** The SubjectPublicKeyInfo encoding: the key that verifies what this certificate signs. */
  get subjectPublicKeyInfoDer(): Uint8Array {
    return this.#field(Field.SubjectPublicKeyInfo);
  }

  /** The serial number INTEGER contents as encoded, for CertIDs. */
  get serialNumber(): Uint8Array {
    return this.#field(Field.Serial);
  }

  /** Parses one DER certificate (its decode remembered in `memos` when given); anything else (trailing bytes included) is CERT_PARSE_FAILED naming the file. */
  static fromDer(der: Uint8Array, file?: string, memos?: ValidationMemos): Certificate {
    const copy = new Uint8Array(der);
    return Certificate.parseOwned(copy, computeSha256Hex(copy), file, memos);
  }

  /**
   * Like fromDer for bytes nobody else holds (a fresh PEM decode), with their SHA-256 already computed: no copy and
   * no second hash. The caller must never modify `der` afterwards.
   */
  static fromOwnedDer(der: Uint8Array, fingerprintSha256: string, file?: string, memos?: ValidationMemos): Certificate {
    return Certificate.parseOwned(der, fingerprintSha256, file, memos);
  }

  private static parseOwned(der: Uint8Array, fingerprintSha256: string, file: string | undefined, memos: ValidationMemos | undefined): Certificate {
    // The fingerprint is the SHA-256 of exactly these bytes: what an earlier decode read from them still holds.
    const known = memos?.certificates.get(fingerprintSha256);
    if (known && rangesFit(known.ranges, der.byteLength)) return new Certificate(der, known, fingerprintSha256);
    try {
      const facts = readCertificateFacts(der);
      memos?.certificates.set(fingerprintSha256, facts);
      return new Certificate(der, facts, fingerprintSha256);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new StaplerdError('CERT_PARSE_FAILED', `${file ?? 'certificate'}: not a valid X.509 certificate (${reason})`, { file }, { cause: error });
    }
  }

  /** Whether this certificate's public key verifies `signed` (remembered in `memos` when given). */
  verifies(signed: SignedBytes, memos?: ValidationMemos): Promise<boolean> {
    return verifySignedBytes(this.subjectPublicKeyInfoDer, signed, memos?.signatures);
  }

  /** candidate's subject equals this issuer Name (DER compared) and candidate's key verifies this certificate's signature. */
  async isIssuedBy(candidate: Certificate, memos?: ValidationMemos): Promise<boolean> {
    if (!equalBytes(candidate.subjectNameDer, this.issuerNameDer)) return false;
    return candidate.verifies(this.#signedBytes(), memos);
  }

  /**
   * isIssuedBy's yes when `memos` remembers it, synchronously (a warm pass resolves 10,000 issuers this way); false
   * means "not remembered", not "not issued by": the caller then asks isIssuedBy.
   */
  isRememberedIssuedBy(candidate: Certificate, memos: ValidationMemos): boolean {
    return equalBytes(candidate.subjectNameDer, this.issuerNameDer) && isRememberedSignature(candidate.subjectPublicKeyInfoDer, this.#signedBytes(), memos.signatures);
  }

  #signedBytes(): SignedBytes {
    return { data: this.#field(Field.Tbs), signature: this.#field(Field.Signature), algorithmDer: this.#field(Field.SignatureAlgorithm) };
  }

  /** The hash (SHA-1/256/384/512 by OID) of the subject Name as encoded: a CertID's issuerNameHash (RFC 6960 4.1.1). */
  nameHash(hashOid: string): Uint8Array {
    this.#nameDigests ??= new Map();
    return this.#digest(this.#nameDigests, hashOid, Field.SubjectName);
  }

  /** The hash of the subjectPublicKey bits: a CertID's issuerKeyHash, or responderID byKey with SHA-1 (RFC 6960 4.2.1). */
  keyHash(hashOid: string): Uint8Array {
    this.#keyDigests ??= new Map();
    return this.#digest(this.#keyDigests, hashOid, Field.PublicKeyBits);
  }

  #digest(digests: Map<string, Uint8Array>, hashOid: string, field: Field): Uint8Array {
    let digest = digests.get(hashOid);
    if (!digest) {
      digest = digestByOid(hashOid, this.#field(field));
      digests.set(hashOid, digest);
    }
    return digest;
  }

  /** notBefore <= at <= notAfter (RFC 5280 4.1.2.5). */
  isValidAt(at: Date): boolean {
    return this.summary.notBefore.getTime() <= at.getTime() && at.getTime() <= this.summary.notAfter.getTime();
  }

  /** PEM text, built once (an issuer shared by thousands of targets is asked for it by each). */
  toPem(): string {
    this.#pem ??= encodePem('CERTIFICATE', this.der);
    return this.#pem;
  }
}
