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
  CERT_PARSE_FAILED: { level: 'error', retry: false, exitCode: 1, summary: 'certificate file is not valid PEM/DER X.509' },
  CERT_EXPIRED: { level: 'info', retry: false, exitCode: 0, summary: 'certificate has expired; skipped' },
  // Let's Encrypt dropped OCSP in 2025: no OCSP URL is normal, "not applicable", never a failure.
  NO_OCSP_URL: { level: 'info', retry: false, exitCode: 0, summary: 'certificate has no OCSP URL (not applicable)' },
  ISSUER_NOT_FOUND: { level: 'error', retry: true, exitCode: 1, summary: 'issuer certificate not found' },
  // Two different certificates mapped to one staple path (--out with several --certs holding the same relative
  // path): writing either would hand a server the other's staple, so neither is written.
  OUTPUT_CONFLICT: { level: 'error', retry: false, exitCode: 1, summary: 'two certificates would share one staple file' },

  // Talking to the responder (or the AIA caIssuers server).
  URL_UNSUPPORTED: { level: 'error', retry: false, exitCode: 1, summary: 'URL scheme is not http or https' },
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

  // Valid answers that are not "good".
  CERT_REVOKED: { level: 'error', retry: true, exitCode: 1, summary: 'certificate is revoked' },
  CERT_STATUS_UNKNOWN: { level: 'warn', retry: true, exitCode: 1, summary: 'responder does not know the certificate' },

  // Output and side effects.
  WRITE_FAILED: { level: 'error', retry: true, exitCode: 1, summary: 'staple could not be written' },
  // Not a failed write: an expired, corrupt or foreign staple stays on disk and servers may go on stapling it.
  REMOVE_FAILED: { level: 'error', retry: true, exitCode: 1, summary: 'invalid staple could not be removed' },
  HOOK_FAILED: { level: 'warn', retry: false, exitCode: 0, summary: 'hook command failed' },
  HOOK_TIMEOUT: { level: 'warn', retry: false, exitCode: 0, summary: 'hook command timed out' },
  HAPROXY_PUSH_FAILED: { level: 'warn', retry: true, exitCode: 0, summary: 'pushing the staple to HAProxy failed' },
  STATE_CORRUPT: { level: 'warn', retry: false, exitCode: 0, summary: 'state file was corrupt and is rebuilt' },

  INTERNAL: { level: 'error', retry: true, exitCode: 1, summary: 'unexpected internal error' },
} as const satisfies Record<string, CodePolicy>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function policyForCode(code: ErrorCode): CodePolicy {
  return ERROR_CODES[code];
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}
