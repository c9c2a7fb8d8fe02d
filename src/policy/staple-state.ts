// One word describing a certificate's staple, for `status` output and metrics.
import { isUsableAt } from './staple-usability.js';

export type StapleState = 'fresh' | 'due' | 'expired' | 'revoked' | 'unknown' | 'missing' | 'failing';

/** The staple currently on disk, as plain facts (certStatus as in pki's ValidatedResponse; spelt out here so policy
 *  depends on nothing but plain values). */
export interface StapleFacts {
  readonly certStatus: 'good' | 'revoked' | 'unknown';
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

export interface ClassifyInput {
  readonly now: Date;
  /** The staple on disk; undefined when there is none. */
  readonly staple?: StapleFacts;
  /** When the staple is scheduled for refresh (computeRefreshAt); undefined counts as due. */
  readonly refreshAt?: Date;
  /** Failed attempts in a row since the last success; 0 when the last attempt succeeded or none was made. */
  readonly consecutiveFailures: number;
}

/**
 * First match wins:
 * - revoked: the staple says revoked. Shown even when it has expired: revocation is normally final (RFC 5280
 *   section 3.3; only certificateHold is undone) and is the one fact an operator must not miss.
 * - failing: no usable staple (missing or past nextUpdate) and the last attempt failed.
 * - missing: no staple and no failure yet (never fetched).
 * - expired: past nextUpdate (RFC 6960 section 4.2.2.1: such a response is unreliable), no failure recorded.
 * - unknown: the responder does not know the certificate.
 * - due: good, still valid, but refreshAt has been reached.
 * - fresh: good and not yet due.
 */
export function classifyStaple(input: ClassifyInput): StapleState {
  const { staple, now } = input;
  if (staple?.certStatus === 'revoked') return 'revoked';
  const isUsable = isUsableAt(staple, now);
  if (!isUsable && input.consecutiveFailures > 0) return 'failing';
  if (staple === undefined) return 'missing';
  if (!isUsable) return 'expired';
  if (staple.certStatus === 'unknown') return 'unknown';
  if (input.refreshAt === undefined || now.getTime() >= input.refreshAt.getTime()) return 'due';
  return 'fresh';
}
