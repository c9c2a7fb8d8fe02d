// Default time window of validation, in one place: the validator, `staplerd check`, the Node TLS handler and config/.

/** Clocks of the responder and this host disagree by seconds to minutes; five minutes absorbs that both ways. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;
/** HAProxy stops stapling a response 5 minutes before its nextUpdate, so one that close is already useless. */
export const DEFAULT_MIN_REMAINING_MS = 5 * 60_000;
/**
 * A response without nextUpdate says "newer information is available all the time" (RFC 6960 4.2.2.1), yet servers
 * staple it and clients accept it: Firefox for one day after thisUpdate (mozilla::pkix pkixocsp.cpp,
 * ONE_DAY_IN_SECONDS, matching NSS). staplerd gives it the same bounded life, so such a site still gets a staple and
 * it is refreshed, replaced and removed like any other.
 */
export const DEFAULT_LIFETIME_WITHOUT_NEXT_UPDATE_MS = 24 * 60 * 60_000;
