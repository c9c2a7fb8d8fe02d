// One certificate's status as `status`, the metrics and /healthz show it: plain data, JSON-friendly.

export type StapleStateName = 'fresh' | 'due' | 'expired' | 'revoked' | 'unknown' | 'missing' | 'failing' | 'not-applicable' | 'expired-certificate' | 'crl-good';

/** What the certificate's CRL said (docs/revocation.md): no OCSP to staple, but revocation is still watched. */
export interface CrlStatus {
  /** The distribution point that decided (or failed). */
  readonly url: string;
  readonly status: 'good' | 'revoked' | 'failed';
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  readonly crlNumber?: string;
  readonly revocationTime?: Date;
  readonly revocationReason?: string;
  /** The last attempt's failure, also when an earlier CRL still decides. */
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

export interface CertificateStatusRow {
  /** The first file the certificate was found in; `certFiles` lists all. */
  readonly path: string;
  readonly certFiles: readonly string[];
  readonly stapleFiles: readonly string[];
  readonly subject: string;
  readonly serialHex: string;
  readonly mustStaple: boolean;
  /** First OCSP URL used (the --responder override when set), or null: not applicable. */
  readonly ocspUrl: string | null;
  readonly state: StapleStateName;
  readonly certStatus?: 'good' | 'revoked' | 'unknown';
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  /** When staplerd plans the next fetch (refresh, or retry after a failure). */
  readonly nextRefreshAt?: Date;
  readonly consecutiveFailures: number;
  readonly lastErrorCode?: string;
  readonly lastErrorMessage?: string;
  /** Where a revoked verdict came from: the staple (ocsp) or a CRL (crl). */
  readonly revocationSource?: 'ocsp' | 'crl';
  readonly crl?: CrlStatus;
  /** With --fleet: where the staple on disk came from, fetched by this host or taken from the fleet (docs/fleet.md). */
  readonly source?: StapleSourceName;
}

export type StapleSourceName = 'fetched' | 'fleet';

/** Fleet mode's health as `status` and the metrics show it (counters since the daemon started or reloaded). */
export interface FleetHealthSummary {
  readonly connected: boolean;
  readonly leasesWon: number;
  readonly sharedHits: number;
  /** Shared values refused, by reason (invalid, older, wrong-type, too-large). */
  readonly rejected: Readonly<Record<string, number>>;
  readonly errors: number;
}

/** A fetch attempt as the metrics see it (one per responder URL tried). */
export interface FetchObservation {
  /** Responder host (with port when not default). */
  readonly host: string;
  /** 'success' when a response validated; otherwise the error code. */
  readonly result: 'success' | 'failure';
  readonly code?: string;
  readonly latencyMs: number;
}

/** A staple file staplerd could not write or remove (full disk, read-only mount), as the metrics count it. */
export interface StapleFileFailure {
  readonly operation: 'write' | 'remove';
  readonly code: string;
}
