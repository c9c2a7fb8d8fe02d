// What discovery (discover-targets.ts) hands the pass: one staple target per distinct leaf, with its issuer and every
// file it lives in, and the problems met on the way.
import type { ResolvedIssuer } from '../discovery/index.js';
import type { StaplerdError } from '../errors/index.js';
import type { Certificate } from '../pki/certificate.js';

export interface TargetFile {
  readonly certFile: string;
  readonly stapleFile: string;
}

export interface StapleTarget {
  /** SHA-256 fingerprint of the leaf: the same leaf in several files is fetched once. */
  readonly key: string;
  readonly leaf: Certificate;
  readonly files: readonly TargetFile[];
  readonly issuer?: ResolvedIssuer;
  readonly issuerError?: StaplerdError;
}

/**
 * The URLs a leaf's staple is fetched from: --responder when set (every leaf is asked there, OCSP URL or not), else
 * its AIA OCSP URLs. Empty: no staple is ever fetched for it (NO_OCSP_URL). One rule for the fetch, the limiter host,
 * the issuer lookup and the warm-pass probe.
 */
export function responderUrlsOf(leaf: Certificate, responder: string | undefined): readonly string[] {
  return responder !== undefined ? [responder] : leaf.summary.ocspUrls;
}

export interface FileProblem {
  readonly certFile: string;
  readonly error: StaplerdError;
  /** A staple file that must not stay as it is (OUTPUT_CONFLICT: it may hold the other certificate's staple). */
  readonly staleStapleFile?: string;
}
