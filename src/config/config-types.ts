// The resolved configuration every pass runs with, and its defaults (docs/configuration.md documents each key).
import type { LogFormat, LoggerLevel } from '../log/index.js';
// The defaults below that bound validation and parsing are the modules' own (one number, one place); config/ only
// names them, so `staplerd check`, the library API and the daemon cannot drift apart.
import { DEFAULT_CERTIFICATE_FILE_LIMITS } from '../discovery/load-certificate-file.js';
import { DEFAULT_MAX_ISSUER_CANDIDATES } from '../discovery/resolve-issuer.js';
import { DEFAULT_FLEET_PREFIX } from '../fleet/fleet-keys.js';
import { DEFAULT_OCSP_MAX_BODY_BYTES } from '../ocsp/fetch-ocsp-response.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_LIFETIME_WITHOUT_NEXT_UPDATE_MS, DEFAULT_MIN_REMAINING_MS } from '../pki/validation-defaults.js';

export type OnRevoked = 'staple' | 'remove';

/** Which certificates have their revocation checked through CRLs (docs/revocation.md). */
export type CrlCheck = 'no-ocsp' | 'always' | 'never';

/** 32 MiB: the largest public CRLs are a few MiB (10 MiB is ~300,000 entries); anything larger is refused, not read. */
export const DEFAULT_MAX_CRL_BYTES = 32 * 1024 * 1024;

export interface StaplerdConfig {
  /** Directories scanned recursively for certificates. */
  readonly certs: readonly string[];
  /** Output root; undefined = beside each certificate as `<file>.ocsp` (HAProxy's convention). */
  readonly out?: string;
  /** File name endings taken as certificates. */
  readonly extensions: readonly string[];
  /** Extra directory of issuer (CA) certificates, searched after the file itself and its siblings. */
  readonly issuerDir?: string;
  /** Responder URL used instead of the certificate's AIA OCSP URLs (private PKIs, internal mirrors). */
  readonly responder?: string;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly perHostConcurrency: number;
  readonly maxResponseBytes: number;
  /** Largest certificate file (or sibling chain, issuer-directory file) read; larger ones are FILE_TOO_LARGE. */
  readonly maxCertificateFileBytes: number;
  /** Most certificates in one file; more is CERT_LIMIT_EXCEEDED before any is parsed. */
  readonly maxCertificatesPerFile: number;
  /** Most same-named issuer candidates whose signature check is tried for one leaf. */
  readonly maxIssuerCandidates: number;
  readonly nonce: boolean;
  readonly clockSkewMs: number;
  readonly minRemainingMs: number;
  /** How long after thisUpdate a response without nextUpdate counts as valid (0: refuse such responses). */
  readonly lifetimeWithoutNextUpdateMs: number;
  readonly onRevoked: OnRevoked;
  readonly logLevel: LoggerLevel;
  readonly logFormat: LogFormat;
  /** node-cron expression of the safety-net sweep in `run`. */
  readonly sweep: string;
  /** Fetch for every certificate, even when its staple is fresh (`once --force`). */
  readonly force: boolean;
  /** Where `run` waits for writes to settle before re-reading a changed file. */
  readonly watchDebounceMs: number;
  /** Maintain `<cert>.stapling.conf` nginx include snippets beside each staple. */
  readonly nginxSnippets: boolean;
  /**
   * Write `<crt>.issuer` beside certificates whose issuer is not in the PEM (HAProxy loads the staple at start then).
   * resolveConfig turns it on when staples go beside the certificates (no `out`) and off with `out`, unless the
   * file or a flag says otherwise: HAProxy 2.6 refuses to start on a leaf-only PEM with `.ocsp` but no `.issuer`.
   */
  readonly issuerFiles: boolean;
  /** HAProxy runtime API sockets to push every new staple to (`set ssl ocsp-response`). */
  readonly haproxySockets: readonly string[];
  /** Run after a pass that changed any staple (argv, no shell). */
  readonly onUpdate?: readonly string[];
  /** Run after a pass that found a revoked certificate (argv, no shell). */
  readonly onRevokedCommand?: readonly string[];
  readonly hookTimeoutMs: number;
  /** Backoff history and the daemon's status snapshot; undefined = resolveStateDir's default. */
  readonly stateDir?: string;
  /** Outbound HTTP proxy URL for OCSP and AIA caIssuers requests (replaces HTTP_PROXY/HTTPS_PROXY; NO_PROXY applies). */
  readonly proxy?: string;
  /** Fleet mode (docs/fleet.md): the Redis URL staples, leases and backoff are shared through; undefined = alone. */
  readonly fleet?: string;
  /** Prefix of every fleet key and the channel, so several fleets can share one Redis. */
  readonly fleetPrefix: string;
  /** File holding the Redis password (kept out of `ps` and unit files); read once at start. */
  readonly fleetPasswordFile?: string;
  /** PEM CA certificate(s) a rediss:// Redis must chain to, instead of the system CAs; read once at start. */
  readonly fleetCaFile?: string;
  /** `run` only: `host:port` of the /metrics and /healthz listener; undefined = no listener. */
  readonly metrics?: string;
  /** `run` only: /healthz turns 503 when a staple is this close to its nextUpdate. */
  readonly healthMarginMs: number;
  /** CRLs for certificates without an OCSP URL (no-ocsp), for every certificate (always), or never. */
  readonly crlCheck: CrlCheck;
  /** Largest CRL downloaded or read from the state dir; larger is CRL_TOO_LARGE. */
  readonly maxCrlBytes: number;
}

export const DEFAULT_CONFIG: StaplerdConfig = {
  certs: [],
  extensions: ['.pem', '.crt', '.cer'],
  timeoutMs: 10_000,
  // 32 parallel certificates keeps a 2-core host busy while the per-host limit keeps each CA's responder safe.
  concurrency: 32,
  // Politeness: at most 4 requests in flight per responder host.
  perHostConcurrency: 4,
  // 64 KiB: real responses are 1-4 KiB even with a responder chain; anything larger is junk or hostile.
  maxResponseBytes: DEFAULT_OCSP_MAX_BODY_BYTES,
  // 1 MiB holds Mozilla's ~150-root bundle four times over; a 200 MB file cost 1.3 GB and 10 s of parsing.
  maxCertificateFileBytes: DEFAULT_CERTIFICATE_FILE_LIMITS.maxFileBytes,
  // Chains hold 2-5 certificates, CA bundles given as issuerDir ~150.
  maxCertificatesPerFile: DEFAULT_CERTIFICATE_FILE_LIMITS.maxCertificates,
  // A leaf has one issuer, rarely a few same-named ones (cross-signs, re-keys); each extra one is a signature check.
  maxIssuerCandidates: DEFAULT_MAX_ISSUER_CANDIDATES,
  nonce: false,
  clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
  // HAProxy stops stapling a response 5 minutes before its nextUpdate; demand at least that much life.
  minRemainingMs: DEFAULT_MIN_REMAINING_MS,
  // RFC 6960 4.2.2.1 allows responses without nextUpdate (a Bundesdruckerei responder sends them); Firefox accepts
  // them for one day after thisUpdate (mozilla::pkix pkixocsp.cpp), so that is the bound, refreshed at half of it.
  lifetimeWithoutNextUpdateMs: DEFAULT_LIFETIME_WITHOUT_NEXT_UPDATE_MS,
  onRevoked: 'staple',
  logLevel: 'info',
  logFormat: 'text',
  sweep: '*/15 * * * *',
  force: false,
  watchDebounceMs: 500,
  nginxSnippets: false,
  // The default layout writes staples beside the certificates, where HAProxy needs `<crt>.issuer` (see the type).
  issuerFiles: true,
  haproxySockets: [],
  fleetPrefix: DEFAULT_FLEET_PREFIX,
  // A reload command (nginx -s reload, systemctl reload haproxy) finishes in seconds; a minute means it hangs.
  hookTimeoutMs: 60_000,
  // Refreshes start halfway through a response's validity, so a staple within an hour of nextUpdate means every
  // retry for half its life has failed; an hour stays below half the validity of any responder issuing >= 2 h answers.
  healthMarginMs: 60 * 60_000,
  // Certificates without OCSP are the ones nothing else watches (Let's Encrypt since 2025); OCSP ones opt in.
  crlCheck: 'no-ocsp',
  maxCrlBytes: DEFAULT_MAX_CRL_BYTES,
};
