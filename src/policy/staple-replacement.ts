// Whether a freshly validated response may replace the staple on disk.

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
