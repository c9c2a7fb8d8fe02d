// Whether a staple can be served at an instant: the one rule every caller asks (pass, status, health, node-tls).

/** The part of a staple the rule needs (pki's ValidatedResponse and the status rows fit). */
export interface StapleLifetime {
  readonly nextUpdate: Date;
}

/**
 * The last instant a staple may be served with `minRemainingMs` to spare. RFC 6960 section 4.2.2.1: past nextUpdate
 * a response is unreliable, and clients refuse it; the margin leaves room to replace it first.
 */
export function computeUsableUntil(staple: StapleLifetime, minRemainingMs = 0): Date {
  return new Date(staple.nextUpdate.getTime() - minRemainingMs);
}

/**
 * True while `now` is before nextUpdate - minRemainingMs. At that instant itself the staple no longer counts: a
 * conservative reading that never shows or serves a dead staple as alive. Time only; callers that need a "good"
 * answer check certStatus too (isGoodAt).
 */
export function isUsableAt(staple: StapleLifetime | undefined, now: Date, minRemainingMs = 0): boolean {
  return staple !== undefined && now.getTime() < computeUsableUntil(staple, minRemainingMs).getTime();
}

/** A staple a server can serve for a while yet and a client accepts as proof: "good", and usable at `now`. */
export function isGoodAt(staple: (StapleLifetime & { readonly certStatus: string }) | undefined, now: Date, minRemainingMs = 0): boolean {
  return staple?.certStatus === 'good' && isUsableAt(staple, now, minRemainingMs);
}
