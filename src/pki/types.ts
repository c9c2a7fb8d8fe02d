// Plain data that leaves the pki module: no pkijs or asn1js types cross this boundary.

/** What staplerd needs to know about one X.509 certificate. */
export interface CertificateSummary {
  /** Serial number as lowercase hex of the DER INTEGER content, leading zero bytes stripped ("00" for zero). */
  readonly serialHex: string;
  /** Subject and issuer distinguished names for display, e.g. "CN=example.com, O=Example". */
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints cA=TRUE. */
  readonly isCA: boolean;
  /** AIA id-ad-ocsp URLs, in certificate order. */
  readonly ocspUrls: readonly string[];
  /** AIA id-ad-caIssuers URLs, in certificate order. */
  readonly caIssuersUrls: readonly string[];
  /** TLS Feature extension lists status_request (RFC 7633). */
  readonly mustStaple: boolean;
  /** Lowercase hex SHA-256 of the DER: the identity used to deduplicate and to key staples. */
  readonly fingerprintSha256: string;
}

export type CertStatus = 'good' | 'revoked' | 'unknown';

/** A response that passed every check in validateOcspResponse. */
export interface ValidatedResponse {
  readonly der: Uint8Array;
  readonly certStatus: CertStatus;
  readonly serialHex: string;
  readonly producedAt: Date;
  readonly thisUpdate: Date;
  /**
   * When the response stops being usable: its nextUpdate, or, for a response without one, thisUpdate + the
   * configured lifetime (nextUpdateImplied is then true). Every judgement of usability (refresh, replacement,
   * removal, status, serving) uses this instant.
   */
  readonly nextUpdate: Date;
  /** True when the response carries no nextUpdate and `nextUpdate` is thisUpdate + lifetimeWithoutNextUpdate. */
  readonly nextUpdateImplied?: boolean;
  readonly revocationTime?: Date;
  /** CRLReason name (RFC 5280 5.3.1), when the response gives one. */
  readonly revocationReason?: string;
  /** "issuer" when signed by the issuer's key, "delegated" when by an authorised responder certificate. */
  readonly signedBy: 'issuer' | 'delegated';
}
