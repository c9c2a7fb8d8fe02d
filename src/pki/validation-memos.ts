// The validation memos as one object: the verified-signature memo and the decoded-facts memos. `once`, `run` and
// `ocsp-response` create one, hand it down to the pass (and the pass to the pki functions), and have
// src/state/validation-cache.ts load and save it. A caller that hands none (`check`, the node-tls library) memoises
// nothing: only a caller that also prunes the memos after each pass (saveValidationCache) may let them grow.
import { SignatureMemo } from './verified-signatures.js';
import { createCertificateFactsMemo, createOcspResponseFactsMemo, type CertificateFacts, type OcspResponseFacts } from './decoded-facts.js';
import type { UsageTrackedMemo } from './usage-tracked-memo.js';

export interface ValidationMemos {
  readonly signatures: SignatureMemo;
  readonly certificates: UsageTrackedMemo<CertificateFacts>;
  readonly responses: UsageTrackedMemo<OcspResponseFacts>;
}

/** Empty memos, all on: one set per process that runs passes. */
export function createValidationMemos(): ValidationMemos {
  return { signatures: new SignatureMemo(), certificates: createCertificateFactsMemo(), responses: createOcspResponseFactsMemo() };
}
