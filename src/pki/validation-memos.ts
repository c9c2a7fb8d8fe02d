// The validation memos as one object: the verified-signature memo and the decoded-facts memos a pass consults, and
// the state directory keeps (src/state/validation-cache.ts persists exactly the object it is given).
import { signatureMemo, type SignatureMemo } from './verified-signatures.js';
import { certificateFactsMemo, ocspResponseFactsMemo, type CertificateFacts, type OcspResponseFacts } from './decoded-facts.js';
import type { UsageTrackedMemo } from './usage-tracked-memo.js';

export interface ValidationMemos {
  readonly signatures: SignatureMemo;
  readonly certificates: UsageTrackedMemo<CertificateFacts>;
  readonly responses: UsageTrackedMemo<OcspResponseFacts>;
}

/**
 * The memos verifySignedBytes, Certificate and decodeOcspResponse consult today. `once`, `ocsp-response` and the
 * daemon hand this object to the validation cache; handing memos down to the pki functions instead is issue 12's
 * remaining step, after which this shared object goes away.
 */
export const PROCESS_VALIDATION_MEMOS: ValidationMemos = {
  signatures: signatureMemo,
  certificates: certificateFactsMemo,
  responses: ocspResponseFactsMemo,
};
