// Pure rules of fleet mode: key names, the prefix's syntax, the shared backoff's encoding, and whether a validated
// shared staple is worth taking. No I/O; table-driven tests at fixed instants (test/fleet/fleet-keys.test.ts).
import { createHash } from 'node:crypto';
import { isErrorCode, policyForCode, type ErrorCode } from '../errors/index.js';
import type { ValidatedResponse } from '../pki/types.js';
import { computeRefreshAt } from '../policy/index.js';

export const DEFAULT_FLEET_PREFIX = 'staplerd:';
export const MAX_FLEET_PREFIX_LENGTH = 64;

/** Printable ASCII without spaces: a prefix ends up in ACL key patterns (`~staplerd:*`) and log lines. */
export function isValidFleetPrefix(prefix: string): boolean {
  return prefix.length >= 1 && prefix.length <= MAX_FLEET_PREFIX_LENGTH && /^[\x21-\x7e]+$/.test(prefix);
}

/** The key of a certificate: SHA-256 of its CertID as sent (a nonce-free OCSPRequest), the same on every host. */
export function hashCertId(certIdRequestDer: Uint8Array): string {
  return createHash('sha256').update(certIdRequestDer).digest('hex');
}

export interface FleetKeys {
  readonly staple: string;
  readonly lease: string;
  readonly backoff: string;
}

export function fleetKeysFor(prefix: string, id: string): FleetKeys {
  return { staple: `${prefix}staple:${id}`, lease: `${prefix}lease:${id}`, backoff: `${prefix}backoff:${id}` };
}

/** The one channel a holder announces new staples on (message: the certificate's id). */
export function fleetChannel(prefix: string): string {
  return `${prefix}published`;
}

/** A shared backoff as stored: small JSON, parsed as untrusted input. */
export interface SharedBackoff {
  readonly code: ErrorCode;
  readonly retryAt: Date;
}

export const MAX_BACKOFF_VALUE_BYTES = 256;

/** How long a failure at the responder keeps every host of the fleet away from it (per certificate). */
export const SHARED_BACKOFF_MS = 60_000;

export function encodeBackoff(backoff: SharedBackoff): string {
  return JSON.stringify({ code: backoff.code, retryAt: backoff.retryAt.getTime() });
}

/**
 * A stored backoff, or undefined when the value is not one staplerd could have written: an unknown code, a code that
 * is not retryable (those are per-host input problems, never shared), or a retry instant in the past or further away
 * than SHARED_BACKOFF_MS (a hostile value must not silence a certificate for long).
 */
export function decodeBackoff(text: string | undefined, now: Date): SharedBackoff | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { code, retryAt } = parsed as { code?: unknown; retryAt?: unknown };
  if (typeof code !== 'string' || !isErrorCode(code) || !isShareableFailure(code)) return undefined;
  if (typeof retryAt !== 'number' || !Number.isFinite(retryAt)) return undefined;
  const untilMs = retryAt - now.getTime();
  if (untilMs <= 0 || untilMs > SHARED_BACKOFF_MS) return undefined;
  return { code, retryAt: new Date(retryAt) };
}

/**
 * How many shared backoffs in a row a host honours for one certificate before it asks the responder itself once. A
 * shared backoff is any Redis writer's word: capped at SHARED_BACKOFF_MS each, but a hostile writer could renew it for
 * ever and keep every host from fetching until the staples expire. Honouring three in a row keeps a real outage's
 * load on the responder near one request per minute for the fleet, and bounds what a forged backoff can delay.
 */
export const MAX_SHARED_BACKOFFS_IN_A_ROW = 3;

/** Whether to honour a shared backoff, given how many this host already honoured in a row for the certificate. */
export function shouldHonourSharedBackoff(honouredInARow: number): boolean {
  return honouredInARow < MAX_SHARED_BACKOFFS_IN_A_ROW;
}

/** Failures at the responder (retryable ones) are shared; a host's own input problems are not. */
export function isShareableFailure(code: ErrorCode): boolean {
  return policyForCode(code).retry && code !== 'INTERNAL' && code !== 'WRITE_FAILED' && code !== 'ISSUER_NOT_FOUND';
}

export type SharedVerdict = 'take' | 'due' | 'older';

/**
 * Whether a shared staple that passed validation is worth taking instead of fetching: not when it is no newer than
 * the one this host already holds (monotonic replacement), nor when it is itself due for refresh. "Due" uses the
 * earliest instant any host's jitter could pick (random 0), so a host never takes a value that would make it fetch
 * again at once, and the first host due fetches for all (policy/refresh-schedule.ts).
 */
export function judgeSharedStaple(shared: ValidatedResponse, current: ValidatedResponse | undefined, now: Date, minRemainingMs: number): SharedVerdict {
  if (current && shared.thisUpdate.getTime() < current.thisUpdate.getTime()) return 'older';
  const earliestRefreshAt = computeRefreshAt(shared, { minRemainingMs, random: () => 0 });
  return now.getTime() >= earliestRefreshAt.getTime() ? 'due' : 'take';
}
