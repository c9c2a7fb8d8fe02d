// The messages between the bench and its OCSP responder process (child_process IPC, JSON).

export interface ResponderSetup {
  /** PKCS#8 DER of the bench CA's private key, base64 (a throwaway key made for this run). */
  readonly issuerKeyPkcs8: string;
  readonly nameHashHex: string;
  readonly keyHashHex: string;
  /** DER of the CA certificate, base64; served at /ca.der as the AIA caIssuers target. */
  readonly caDer: string;
  readonly serialsHex: readonly string[];
  readonly producedAtMs: number;
  readonly thisUpdateMs: number;
  readonly nextUpdateMs: number;
  /** Held before each OCSP answer, to stand in for a network round trip (0: answer at once). */
  readonly latencyMs: number;
}

export interface ResponderStats {
  /** OCSP requests answered (GET and POST). */
  readonly ocspRequests: number;
  readonly getRequests: number;
  readonly postRequests: number;
  /** Requests whose serial had no pre-signed answer, or that did not parse. */
  readonly unknownOrMalformed: number;
  /** Anything else (the /ca.der download, stray paths). */
  readonly otherRequests: number;
  /** Most requests open at the same time, from request start to response end. */
  readonly maxInFlight: number;
  /** CPU the responder process spent since the last reset. */
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly elapsedMs: number;
  /** Per keep-alive connection, from the end of one answer to the next request on it: the time the client left a
   *  connection (a politeness slot) idle. Its total over P connections is what the pass lost against N*d/P. */
  readonly idleGapMs: DurationSummary;
  /** Per OCSP request, from its arrival to the end of its answer: the responder's side of the round trip. */
  readonly heldMs: DurationSummary;
  /** From the last reset to the first OCSP request (NaN: none): with a reset right before a spawn, the client's
   *  start-up until its first request. */
  readonly firstOcspRequestMs: number;
}

export interface DurationSummary {
  readonly count: number;
  readonly meanMs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly totalMs: number;
}

export type ParentMessage =
  | { readonly type: 'setup'; readonly setup: ResponderSetup }
  | { readonly type: 'reset'; readonly id: number }
  | { readonly type: 'stats'; readonly id: number };

export type ChildMessage =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'ready'; readonly preSignMs: number; readonly preSignCpuMs: number; readonly answers: number }
  | { readonly type: 'reply'; readonly id: number; readonly stats?: ResponderStats }
  | { readonly type: 'error'; readonly message: string };
