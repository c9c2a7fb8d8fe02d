// The closed set of stable error codes and, in one table, what each code decides: log level, retry, exit status.
// The code, never the message, drives behaviour (as in got's source/core/errors.ts), so messages can improve freely.

export type LogLevel = 'error' | 'warn' | 'info';

export interface CodePolicy {
  /** Level when the certificate is not must-staple; must-staple failures are raised to error by the caller. */
  readonly level: LogLevel;
  /** Whether a later attempt may succeed (drives backoff); false means "wait for the input to change". */
  readonly retry: boolean;
  /** Exit status of `once`/`check` when this code is the outcome: 1 failure, 2 usage/configuration. */
  readonly exitCode: 0 | 1 | 2;
  readonly summary: string;
}

export const ERROR_CODES = {
  // Usage and configuration: the operator must fix something; exit 2 (systemd: RestartPreventExitStatus=2).
  USAGE: { level: 'error', retry: false, exitCode: 2, summary: 'bad command-line usage' },
  CONFIG_INVALID: { level: 'error', retry: false, exitCode: 2, summary: 'invalid configuration' },

  // Inputs on disk.
  CERT_UNREADABLE: { level: 'error', retry: false, exitCode: 1, summary: 'certificate file cannot be read' },
  // A --certs directory (or a Node handler's staple directory) that cannot be listed: a typo or a permission, fixed
  // by the operator, that is by the directory changing.
  DIRECTORY_UNREADABLE: { level: 'error', retry: false, exitCode: 1, summary: 'directory cannot be listed' },
  CERT_PARSE_FAILED: { level: 'error', retry: false, exitCode: 1, summary: 'certificate file is not valid PEM/DER X.509' },
  // Hostile or broken files: any file staplerd reads (certificate, chain, staple, issuer, snippet, state) may be a FIFO
  // or a link to /dev/zero, which would block or never end; each is refused by what it is, before anything is read.
  FILE_NOT_REGULAR: { level: 'error', retry: false, exitCode: 1, summary: 'file is not a regular file (FIFO, device, socket, directory); not read' },
  FILE_TOO_LARGE: { level: 'error', retry: false, exitCode: 1, summary: 'file is larger than its size cap; not read' },
  CERT_LIMIT_EXCEEDED: { level: 'error', retry: false, exitCode: 1, summary: 'too many certificates in a file or issuer candidates for a leaf' },
  FILE_NAME_UNSUPPORTED: { level: 'error', retry: false, exitCode: 1, summary: 'file or directory name is not valid UTF-8; not read' },
  // A directory staplerd will not descend into: a pseudo-filesystem (/proc, /sys, /dev, cgroup, ...) or an ancestor
  // of the directory holding the link (a link to / would walk the whole host).
  DIRECTORY_REFUSED: { level: 'warn', retry: false, exitCode: 0, summary: 'directory not walked: pseudo-filesystem or a link back up the tree' },
  CERT_EXPIRED: { level: 'info', retry: false, exitCode: 0, summary: 'certificate has expired; skipped' },
  // Let's Encrypt dropped OCSP in 2025: no OCSP URL is normal, "not applicable", never a failure.
  NO_OCSP_URL: { level: 'info', retry: false, exitCode: 0, summary: 'certificate has no OCSP URL (not applicable)' },
  ISSUER_NOT_FOUND: { level: 'error', retry: true, exitCode: 1, summary: 'issuer certificate not found' },
  // Two different certificates mapped to one staple path (--out with several --certs holding the same relative
  // path): writing either would hand a server the other's staple, so neither is written.
  OUTPUT_CONFLICT: { level: 'error', retry: false, exitCode: 1, summary: 'two certificates would share one staple file' },
  // A symlink inside the --out tree would make a write land outside it (a link to /etc): never written through.
  OUTPUT_PATH_UNSAFE: { level: 'error', retry: false, exitCode: 1, summary: 'staple path under --out passes through a symlink; not written' },

  // Talking to the responder (or the AIA caIssuers server).
  URL_UNSUPPORTED: { level: 'error', retry: false, exitCode: 1, summary: 'URL scheme is not http or https' },
  // A redirect that would aim staplerd at a local address or re-send a POST body to another host: OCSP is plain HTTP,
  // so anyone on the path can forge one. Retried: the path (or the responder) may be sane again later.
  REDIRECT_REFUSED: { level: 'error', retry: true, exitCode: 1, summary: 'redirect refused (to a local address, or re-sending a POST to another host)' },
  FETCH_TIMEOUT: { level: 'warn', retry: true, exitCode: 1, summary: 'responder did not answer in time' },
  FETCH_NETWORK: { level: 'warn', retry: true, exitCode: 1, summary: 'responder unreachable' },
  FETCH_HTTP_STATUS: { level: 'warn', retry: true, exitCode: 1, summary: 'responder answered with an HTTP error status' },
  FETCH_TOO_LARGE: { level: 'warn', retry: true, exitCode: 1, summary: 'response body exceeds the size limit' },

  // The response itself (RFC 6960 section 4.2.1 responseStatus values each get their own code).
  RESPONSE_MALFORMED: { level: 'warn', retry: true, exitCode: 1, summary: 'response is not a complete DER OCSPResponse' },
  RESPONSE_TRY_LATER: { level: 'warn', retry: true, exitCode: 1, summary: 'responder said tryLater' },
  RESPONSE_INTERNAL_ERROR: { level: 'warn', retry: true, exitCode: 1, summary: 'responder said internalError' },
  RESPONSE_UNAUTHORIZED: { level: 'warn', retry: true, exitCode: 1, summary: 'responder said unauthorized' },
  RESPONSE_MALFORMED_REQUEST: { level: 'warn', retry: true, exitCode: 1, summary: 'responder said malformedRequest' },
  RESPONSE_SIG_REQUIRED: { level: 'warn', retry: true, exitCode: 1, summary: 'responder said sigRequired' },
  RESPONSE_TYPE_UNSUPPORTED: { level: 'warn', retry: true, exitCode: 1, summary: 'response type is not id-pkix-ocsp-basic' },
  RESPONSE_CERTID_MISMATCH: { level: 'warn', retry: true, exitCode: 1, summary: 'no SingleResponse for this certificate' },
  RESPONSE_UNVERIFIED: { level: 'warn', retry: true, exitCode: 1, summary: 'response signature does not verify' },
  RESPONDER_UNAUTHORIZED: { level: 'warn', retry: true, exitCode: 1, summary: 'responder is not authorised by the issuer' },
  RESPONSE_NOT_YET_VALID: { level: 'warn', retry: true, exitCode: 1, summary: 'thisUpdate is in the future' },
  RESPONSE_EXPIRED: { level: 'warn', retry: true, exitCode: 1, summary: 'nextUpdate has passed or is too close' },
  // RFC 6960 4.2.2.1 allows omitting nextUpdate; such a response is usable for lifetimeWithoutNextUpdate after thisUpdate.
  RESPONSE_NO_NEXT_UPDATE: { level: 'warn', retry: true, exitCode: 1, summary: 'response without nextUpdate is older than lifetimeWithoutNextUpdate' },
  RESPONSE_NONCE_MISMATCH: { level: 'warn', retry: true, exitCode: 1, summary: 'response nonce differs from the request nonce' },

  // CRLs (src/crl/, docs/revocation.md): for certificates without an OCSP URL (or all, with --crl-check always). A CRL
  // that fails any of these changes no verdict: the last valid CRL kept in the state dir still decides while fresh.
  CRL_TOO_LARGE: { level: 'warn', retry: true, exitCode: 1, summary: 'CRL exceeds --max-crl-size; not read' },
  CRL_MALFORMED: { level: 'warn', retry: true, exitCode: 1, summary: 'CRL is not a complete DER CertificateList' },
  CRL_UNVERIFIED: { level: 'warn', retry: true, exitCode: 1, summary: "CRL is not signed by the certificate's issuer (key or name)" },
  CRL_NOT_YET_VALID: { level: 'warn', retry: true, exitCode: 1, summary: 'CRL thisUpdate is in the future' },
  CRL_EXPIRED: { level: 'warn', retry: true, exitCode: 1, summary: 'CRL nextUpdate has passed or is missing' },
  // Delta CRLs, indirect CRLs and unknown critical extensions (RFC 5280 5.2, 5.3): a CRL not fully understood proves nothing.
  CRL_UNSUPPORTED: { level: 'warn', retry: true, exitCode: 1, summary: 'CRL is a delta or indirect CRL, or has an unknown critical extension' },
  CRL_SCOPE_MISMATCH: { level: 'warn', retry: true, exitCode: 1, summary: 'CRL issuing distribution point does not cover the certificate' },
  // A replayed older CRL must not un-revoke a certificate (RFC 5280 5.2.3: cRLNumber increases monotonically).
  CRL_OLDER: { level: 'warn', retry: true, exitCode: 1, summary: 'CRL number is lower than the one already accepted' },

  // Valid answers that are not "good".
  CERT_REVOKED: { level: 'error', retry: true, exitCode: 1, summary: 'certificate is revoked' },
  CERT_STATUS_UNKNOWN: { level: 'warn', retry: true, exitCode: 1, summary: 'responder does not know the certificate' },

  // Output and side effects.
  WRITE_FAILED: { level: 'error', retry: true, exitCode: 1, summary: 'staple could not be written' },
  // Not a failed write: an expired, corrupt or foreign staple stays on disk and servers may go on stapling it.
  REMOVE_FAILED: { level: 'error', retry: true, exitCode: 1, summary: 'invalid staple could not be removed' },
  // The staple on disk is then judged invalid (servers cannot load it either); the next pass reads it again.
  STAPLE_UNREADABLE: { level: 'warn', retry: true, exitCode: 1, summary: 'existing staple file cannot be read' },
  HOOK_FAILED: { level: 'warn', retry: false, exitCode: 0, summary: 'hook command failed' },
  HOOK_TIMEOUT: { level: 'warn', retry: false, exitCode: 0, summary: 'hook command timed out' },
  HAPROXY_PUSH_FAILED: { level: 'warn', retry: true, exitCode: 0, summary: 'pushing the staple to HAProxy failed' },
  // Connect, command and reply did not finish within --timeout: a hung HAProxy, or a listener that accepts and says
  // nothing; the socket is not asked again in that pass (src/servers/haproxy/haproxy-server.ts).
  HAPROXY_TIMEOUT: { level: 'warn', retry: true, exitCode: 0, summary: 'HAProxy runtime socket did not answer in time' },
  // A listener at --haproxy-socket that streams data is not HAProxy's runtime API (whose replies are one line); the
  // reply is cut at MAX_REPLY_BYTES instead of being read until memory runs out. Retried like any failed push.
  HAPROXY_REPLY_TOO_LARGE: { level: 'warn', retry: true, exitCode: 0, summary: 'HAProxy runtime socket reply exceeds the size limit' },
  // The state dir is an optimisation (backoff, caches, status): failing to use it never fails a pass.
  STATE_CORRUPT: { level: 'warn', retry: false, exitCode: 0, summary: 'state file was corrupt and is rebuilt' },
  // `run` could not listen on <state dir>/daemon.sock: it keeps running, but `status` cannot prove it is the daemon
  // and shows the files instead of its live view.
  STATUS_SOCKET_FAILED: { level: 'warn', retry: false, exitCode: 0, summary: 'status socket could not be opened; status shows the files' },
  STATE_READ_FAILED: { level: 'warn', retry: true, exitCode: 0, summary: 'state file cannot be read; started without it' },
  STATE_WRITE_FAILED: { level: 'warn', retry: true, exitCode: 0, summary: 'state could not be saved' },

  // The daemon's own machinery (run only).
  // Runtime watcher errors (inotify limit, a directory gone): the --sweep rescan still finds every change, late.
  WATCH_FAILED: { level: 'warn', retry: true, exitCode: 0, summary: 'watching a directory for changes failed' },
  // At start, `run` stops with exit 2 (an operator fix, like CONFIG_INVALID); on SIGHUP only the metrics are lost.
  METRICS_LISTEN_FAILED: { level: 'error', retry: false, exitCode: 2, summary: 'metrics address cannot be bound' },

  // Fleet mode (docs/fleet.md): Redis is an optimisation and untrusted; neither code ever fails a certificate.
  FLEET_UNAVAILABLE: { level: 'warn', retry: true, exitCode: 0, summary: 'fleet Redis unreachable, slow or refusing; this host carries on alone' },
  FLEET_VALUE_REJECTED: { level: 'warn', retry: true, exitCode: 0, summary: 'shared staple in Redis failed validation; this host fetches for itself' },

  INTERNAL: { level: 'error', retry: true, exitCode: 1, summary: 'unexpected internal error' },
} as const satisfies Record<string, CodePolicy>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function policyForCode(code: ErrorCode): CodePolicy {
  return ERROR_CODES[code];
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}
