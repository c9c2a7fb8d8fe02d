// The one constructor of a certificate's outcome: what every step of processTarget returns.
import type { StaplerdError } from '../errors/index.js';
import type { ValidatedResponse } from '../pki/types.js';
import type { OutcomeKind, StapleFileState, TargetOutcome } from './pass-types.js';

/** What every outcome of one certificate shares (files, subject, serial, issuer), fixed before anything is decided. */
export type OutcomeBase = Pick<TargetOutcome, 'certFiles' | 'stapleFiles' | 'subject' | 'serialHex' | 'mustStaple' | 'key' | 'ocspUrl' | 'issuerSource' | 'issuerPem' | 'source'>;

export interface OutcomeParts {
  /** The staple the outcome reports (status, thisUpdate, nextUpdate): what servers load, or what was fetched. */
  readonly staple?: ValidatedResponse;
  /** The failure or verdict the outcome stands for; `code` alone when there is no message (revoked, expired). */
  readonly error?: Pick<StaplerdError, 'code' | 'message'>;
  readonly code?: TargetOutcome['code'];
  readonly message?: string;
  readonly changedFiles?: readonly string[];
  readonly files?: readonly StapleFileState[];
  readonly hasGoodStaple: boolean;
  readonly nextActionAt?: Date;
}

export function makeOutcome(base: OutcomeBase, kind: OutcomeKind, parts: OutcomeParts): TargetOutcome {
  const { staple } = parts;
  const code = parts.error?.code ?? parts.code;
  const message = parts.error?.message ?? parts.message;
  return {
    ...base,
    ...(staple ? { certStatus: staple.certStatus, thisUpdate: staple.thisUpdate, nextUpdate: staple.nextUpdate } : {}),
    kind,
    code,
    message,
    changedFiles: parts.changedFiles ?? [],
    ...(parts.files ? { files: parts.files } : {}),
    hasGoodStaple: parts.hasGoodStaple,
    nextActionAt: parts.nextActionAt,
  };
}
