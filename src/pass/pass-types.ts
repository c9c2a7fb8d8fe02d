// Data passed into and out of a pass: dependencies, per-certificate history, and outcomes.
import type { StaplerdConfig } from '../config/index.js';
import type { ErrorCode } from '../errors/index.js';
import type { EventLogger } from '../log/index.js';
import type { CertStatus, ValidatedResponse } from '../pki/types.js';
import type { ValidationMemos } from '../pki/validation-memos.js';
import type { Clock, CrlStatus, FetchObservation, RandomSource, StapleFileFailure } from '../types/index.js';
import type { CrlChecker } from '../crl/index.js';
import type { HttpClient } from '../ocsp/http-client.js';
import type { FleetCoordinator, StapleSource } from '../fleet/index.js';

/** What a pass needs from the outside world; tests pass fakes. */
export interface PassDependencies {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: EventLogger;
  readonly http: HttpClient;
  /** Random bytes for nonces (injectable for tests). */
  readonly randomBytes?: (length: number) => Uint8Array;
  /** Told about every OCSP responder URL tried (the daemon's metrics); nothing else depends on it. */
  readonly observeFetch?: (observation: FetchObservation) => void;
  /** Told about every staple file that could not be written or removed (the daemon's metrics). */
  readonly observeStapleFileFailure?: (failure: StapleFileFailure) => void;
  /** Fleet mode (--fleet): the fetch step asks the fleet first (docs/fleet.md); absent, every host fetches alone. */
  readonly fleet?: FleetCoordinator;
}

// Defined beside the state file that keeps it (state/ must not import the pass).
import type { HistoryStore } from '../state/target-history.js';
export type { HistoryStore, TargetHistory } from '../state/target-history.js';

export type OutcomeKind =
  /** A new staple was written to at least one file. */
  | 'written'
  /** Staples were fresh; nothing fetched, nothing touched. */
  | 'fresh'
  /** Fetched a valid response that was not newer; files untouched. */
  | 'unchanged'
  /** Fetch or validation failed; existing valid staples were kept (or there were none). */
  | 'failed'
  /** Waiting out a backoff after earlier failures. */
  | 'backing-off'
  | 'revoked'
  | 'unknown'
  /** No OCSP URL: normal since Let's Encrypt ended OCSP in 2025. */
  | 'not-applicable'
  | 'expired-certificate'
  /** Dry run (`status`): judged what is on disk, fetched and wrote nothing. */
  | 'evaluated';

/** One certificate file's staple at the end of the pass: what servers will load from it now. */
export interface StapleFileState {
  readonly certFile: string;
  readonly stapleFile: string;
  /** The valid staple on disk after the pass, or undefined when there is none. */
  readonly staple?: ValidatedResponse;
  /** Written or removed in this pass. */
  readonly changed: boolean;
}

export interface TargetOutcome {
  readonly kind: OutcomeKind;
  /** Per file, the staple left on disk (absent for files that could not be judged, e.g. no issuer). */
  readonly files?: readonly StapleFileState[];
  /** Where the issuer came from; HAProxy needs `<crt>.issuer` when it is not inside the PEM. */
  readonly issuerSource?: 'file' | 'sibling' | 'issuer-dir' | 'aia';
  /** DER of the issuer, when known (for `<crt>.issuer` files). */
  readonly issuerPem?: string;
  /** Certificate files this outcome covers (one leaf may live in several files). */
  readonly certFiles: readonly string[];
  readonly stapleFiles: readonly string[];
  /** Staple files written or removed in this pass. */
  readonly changedFiles: readonly string[];
  readonly subject?: string;
  readonly serialHex?: string;
  readonly mustStaple?: boolean;
  /** The first responder URL (the --responder override when set); undefined when not applicable. */
  readonly ocspUrl?: string;
  /** The certificate's SHA-256 fingerprint, the key of its history. */
  readonly key?: string;
  readonly code?: ErrorCode;
  readonly message?: string;
  readonly certStatus?: CertStatus;
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  /** True when every staple file ends this pass holding a valid good staple with enough life left. */
  readonly hasGoodStaple: boolean;
  /** When this certificate next wants attention (refresh or retry), for the daemon's timer. */
  readonly nextActionAt?: Date;
  /** Where a revoked verdict came from (kind 'revoked'). */
  readonly revocationSource?: 'ocsp' | 'crl';
  /** The CRL verdict, for certificates checked through CRLs (--crl-check). */
  readonly crl?: CrlStatus;
  /** Where the response of this pass came from: fetched from the responder, or taken from the fleet (--fleet). */
  readonly source?: StapleSource;
}

export interface PassReport {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly outcomes: readonly TargetOutcome[];
  /** When the earliest CRL distribution point this pass looked up is to be asked again (`run` wakes for it). */
  readonly crlWakeAt?: Date;
}

export interface PassOptions {
  readonly config: StaplerdConfig;
  readonly deps: PassDependencies;
  readonly history?: HistoryStore;
  /** Stop starting new certificates (shutdown); in-flight ones finish. */
  readonly signal?: AbortSignal;
  /** Judge what is on disk only: no fetch, no write, no removal, no AIA download (`status`). */
  readonly dryRun?: boolean;
  /** Called after each certificate is done (progress bar). */
  readonly onProgress?: (done: number, total: number) => void;
  /** CRL state to share across passes (`run`); a pass without one starts from the state dir's kept CRLs. */
  readonly crlSlot?: CrlSlot;
  /** Memos the pass decodes and verifies through (`once`, `run`: the ones the state directory keeps); none, nothing is. */
  readonly memos?: ValidationMemos;
}

/** Holds the CRL checker once a certificate needs it: the crl module is imported only then (docs/architecture.md). */
export interface CrlSlot {
  checker?: Promise<CrlChecker>;
}
