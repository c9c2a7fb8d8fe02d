// Turns the certificate directories into staple targets: one per distinct leaf, with its issuer and every file it lives in.
import type { StaplerdConfig } from '../config/index.js';
import type { ResolvedIssuer } from '../discovery/index.js';
import type { StaplerdError } from '../errors/index.js';
import type { Certificate } from '../pki/certificate.js';
import type { ValidationMemos } from '../pki/validation-memos.js';
import { discoverTargets } from './discover-targets.js';

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

export interface FileProblem {
  readonly certFile: string;
  readonly error: StaplerdError;
  /** A staple file that must not stay as it is (OUTPUT_CONFLICT: it may hold the other certificate's staple). */
  readonly staleStapleFile?: string;
}

export interface CollectedTargets {
  readonly targets: readonly StapleTarget[];
  readonly problems: readonly FileProblem[];
  /** What discovery refused without it failing the pass (DIRECTORY_REFUSED: /proc, a link to /): logged only. */
  readonly notices: readonly FileProblem[];
  readonly scannedFiles: number;
}

/** Every target at once, in discovery order (runPass streams them instead: discoverTargets). */
export async function collectTargets(
  config: StaplerdConfig,
  options: { now: Date; memos?: ValidationMemos; fetchCaIssuer?: (url: string) => Promise<Uint8Array>; onDirectoryError?: (path: string, error: Error) => void },
): Promise<CollectedTargets> {
  const found: { target: StapleTarget; order: number }[] = [];
  const discovered = await discoverTargets(config, { ...options, onTarget: (target, order) => found.push({ target, order }) });
  found.sort((a, b) => a.order - b.order);
  return { targets: found.map(({ target }) => target), problems: discovered.problems, notices: discovered.notices, scannedFiles: discovered.scannedFiles };
}
