// What processing one certificate is handed: the pass's options, the validated fetch, and the servers to tell.
import type { ValidatedResponse } from '../pki/types.js';
import type { StapleServer } from '../servers/index.js';
import type { PassCrl } from './crl-revocation.js';
import type { PassOptions } from './pass-types.js';

/** Fetches and validates: the transport tries each URL until `accept` (validation) passes. */
export type FetchValidated = (urls: readonly string[], requestDer: Uint8Array, accept: (der: Uint8Array, url: string) => Promise<ValidatedResponse>) => Promise<ValidatedResponse>;

export interface TargetContext extends PassOptions {
  readonly fetchValidated: FetchValidated;
  /** Told before a staple is removed (servers/). */
  readonly servers: readonly StapleServer[];
  /** CRL checking for this pass (runPass sets it; absent, a certificate that needs it gets its own). */
  readonly crl?: PassCrl;
}
