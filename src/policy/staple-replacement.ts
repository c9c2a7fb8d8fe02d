// Whether a freshly validated response may replace the staple on disk, and which of several staples is newest.

export interface ResponseTimes {
  readonly thisUpdate: Date;
  readonly producedAt: Date;
}

/**
 * Only a strictly newer response replaces the staple: later thisUpdate, or the same thisUpdate and a later
 * producedAt. Responders behind CDNs (RFC 5019 section 6) can serve an older cached response after a newer one;
 * never moving backwards keeps the staple from losing validity or flapping. Equal times keep the file untouched.
 */
export function shouldReplaceStaple(current: ResponseTimes | undefined, candidate: ResponseTimes): boolean {
  if (current === undefined) return true;
  const thisUpdateOrder = compareInstants(candidate.thisUpdate, current.thisUpdate);
  if (thisUpdateOrder !== 0) return thisUpdateOrder > 0;
  return compareInstants(candidate.producedAt, current.producedAt) > 0;
}

function compareInstants(left: Date, right: Date): number {
  return Math.sign(left.getTime() - right.getTime());
}

export interface ReplaceableStaple extends ResponseTimes {
  readonly certStatus: 'good' | 'revoked' | 'unknown';
}

/**
 * A fetched response replaces a file's staple when the file holds none, or it reports a revocation the staple does
 * not (a revocation must never be hidden behind a good staple, whatever the timestamps say), or it is strictly newer.
 */
export function shouldReplaceStapleOnDisk(current: ReplaceableStaple | undefined, candidate: ReplaceableStaple): boolean {
  if (current === undefined) return true;
  if (candidate.certStatus === 'revoked' && current.certStatus !== 'revoked') return true;
  return shouldReplaceStaple(current, candidate);
}

/** The newest of some staples (undefined entries are skipped; the first wins a tie); undefined when there is none. */
export function pickNewestStaple<T extends ResponseTimes>(staples: Iterable<T | undefined>): T | undefined {
  let best: T | undefined;
  for (const staple of staples) if (staple && (!best || shouldReplaceStaple(best, staple))) best = staple;
  return best;
}
