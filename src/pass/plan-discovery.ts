// The cheap first look at every candidate file: staple paths from names, and certificate fingerprints without parsing.
import { existsSync } from 'node:fs';
import type { StaplerdConfig } from '../config/index.js';
import { fingerprintCertificateFile, type CandidateFile, type CertificateFileLimits } from '../discovery/index.js';
import { stapleOutputPath } from '../output/staple-paths.js';
import { yieldToEventLoop } from './yield-to-event-loop.js';

export interface DiscoveryPlan {
  /** Each candidate's staple path, by its index. */
  readonly stapleFiles: readonly string[];
  /** About how many targets the files hold (distinct first certificates that no file has further down). */
  readonly expectedTargets: number;
  /** Whether another candidate file claims this staple path too (OUTPUT_CONFLICT can only be decided at the end). */
  isContested(stapleFile: string): boolean;
  /**
   * Candidate `index` is parsed. Returns the fingerprint whose every file is now parsed when that leaf can be handed
   * on before the rest: no file holds that certificate below its first place (where a bundle may keep its leaf).
   */
  release(index: number): string | undefined;
  /** The bytes the plan read of candidate `index`, once, when it kept them (PLAN_BYTES_BUDGET); else undefined. */
  takeBytes(index: number): Uint8Array | undefined;
}

/**
 * The plan keeps what it read for the parse up to this many bytes, so a small tree is read once (about 2,000
 * fullchain files); beyond it files are read again rather than held: a big tree's memory peak stays as it was.
 */
const PLAN_BYTES_BUDGET = 4 * 1024 * 1024;

/** How many of the first candidates are checked for a staple on disk: one without means a fetch is coming. */
const STAPLE_PROBES = 16;

/**
 * A file's leaf is its first certificate that is not a CA (loadCertificateFile), in practice its first one. Files
 * whose first certificate has fingerprint F are the only files that can hold leaf F, unless some file holds F
 * further down: then leaf F waits until every file is parsed. A file that cannot be read or decoded here has no
 * first fingerprint; when it parses after all (it changed between the reads), discovery treats it as a straggler.
 */
export async function planDiscovery(
  candidates: readonly CandidateFile[],
  config: StaplerdConfig,
  limits: CertificateFileLimits,
  onStapleMissing?: () => void,
): Promise<DiscoveryPlan> {
  let stapleMissing = false;
  const stapleFiles: string[] = [];
  const claims = new Map<string, number>();
  const firstFingerprints: (string | undefined)[] = [];
  const unparsedByFingerprint = new Map<string, number>();
  const heldFurtherDown = new Set<string>();
  const keptBytes = new Map<number, Uint8Array>();
  const chainFingerprints = new Map<string, string>();
  let keptSize = 0;
  for (const [index, candidate] of candidates.entries()) {
    await yieldToEventLoop();
    const stapleFile = stapleOutputPath(candidate.file, { certsRoot: candidate.certsRoot, outDir: config.out });
    stapleFiles.push(stapleFile);
    // A certificate without a staple will be fetched for (unless it has no OCSP URL): tell the pass now, a parse
    // ahead of its first request, so the HTTP client loads while the tree is still read (issue 13: got's import took
    // 0.16-0.45 s between the first target and its request).
    if (!stapleMissing && index < STAPLE_PROBES && onStapleMissing && !existsSync(stapleFile)) {
      stapleMissing = true;
      onStapleMissing();
    }
    claims.set(stapleFile, (claims.get(stapleFile) ?? 0) + 1);
    const read = fingerprintCertificateFile(candidate.file, limits, chainFingerprints);
    if (read && keptSize + read.bytes.length <= PLAN_BYTES_BUDGET) {
      keptBytes.set(index, read.bytes);
      keptSize += read.bytes.length;
    }
    const fingerprints = read?.fingerprints;
    const first = fingerprints?.[0];
    firstFingerprints.push(first);
    if (first !== undefined) unparsedByFingerprint.set(first, (unparsedByFingerprint.get(first) ?? 0) + 1);
    for (const later of fingerprints?.slice(1) ?? []) heldFurtherDown.add(later);
  }
  const expectedTargets = [...unparsedByFingerprint.keys()].filter((fingerprint) => !heldFurtherDown.has(fingerprint)).length;
  return {
    stapleFiles,
    expectedTargets,
    isContested: (stapleFile) => (claims.get(stapleFile) ?? 0) > 1,
    release(index) {
      const first = firstFingerprints[index];
      if (first === undefined) return undefined;
      const unparsed = unparsedByFingerprint.get(first)! - 1;
      unparsedByFingerprint.set(first, unparsed);
      return unparsed === 0 && !heldFurtherDown.has(first) ? first : undefined;
    },
    takeBytes(index) {
      const bytes = keptBytes.get(index);
      keptBytes.delete(index);
      return bytes;
    },
  };
}
