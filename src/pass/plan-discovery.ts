// The cheap first look at every candidate file: staple paths from names, and certificate fingerprints without parsing.
import { existsSync } from 'node:fs';
import type { StaplerdConfig } from '../config/index.js';
import { fingerprintCertificateFile, loadCertificateFile, type CandidateFile, type CertificateFileLimits } from '../discovery/index.js';
import { CertificateCache } from '../pki/certificate-cache.js';
import { responderUrlsOf } from './collect-targets.js';
import { stapleOutputPath } from '../output/staple-paths.js';
import { yieldToEventLoop } from './yield-to-event-loop.js';

export interface DiscoveryPlan {
  /** False for a pass that most likely fetches nothing (its first files that get staples have them): the files were not read
   *  first, no leaf is released early, and every target is handed on once the whole tree is parsed. */
  readonly streaming: boolean;
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

/** How many of the first files with a staple are enough to call a pass warm: one without means a fetch is coming. */
const STAPLE_PROBES = 16;
/** Files without a staple read to see whether one is due, at most: a tree of CA bundles or expired leaves stops here. */
const MAX_UNSTAPLED_PROBES = 4 * STAPLE_PROBES;

/**
 * The first read pays off only when something is fetched early. On a warm restart (every staple on disk, nothing due)
 * it was pure overhead: each file opened, decoded and hashed once more, beyond PLAN_BYTES_BUDGET read a third time.
 * Issue 5's 10,000-certificate warm restart went from 2.4-2.9 s to 3.5-4.1 s with it (docs/performance.md, session 6).
 * So when the first STAPLE_PROBES files all have a staple, discovery reads each file once, as it did before
 * streaming, and hands every target on at the end. A pass that has staples to refresh among them then starts its
 * fetches after the parse rather than during it: those staples are still valid, so a few seconds do not matter.
 *
 * A file without a staple counts only when a staple would be fetched for it (session 7: one CA file first in the tree
 * sent every warm restart down the first read). Never stapled: certbot's chain.pem and privkey.pem, CA bundles, a
 * leaf without an OCSP URL (every Let's Encrypt certificate since 2025) and an expired one. Such a file is parsed to
 * tell, through the pass's certificate cache so the parse is not repeated; one that cannot be read or parsed counts
 * as never stapled here, and the parse reports it. A tree of leaves without OCSP URL thus takes the warm path even on
 * its first run: their CRL downloads (--crl-check no-ocsp) start after the parse, and CRLs are kept on disk after.
 */
async function hasMissingStaple(candidates: readonly CandidateFile[], stapleFiles: readonly string[], probe: StapleProbe): Promise<boolean> {
  let stapled = 0;
  let neverStapled = 0;
  for (const [index, candidate] of candidates.entries()) {
    if (stapled >= STAPLE_PROBES || neverStapled >= MAX_UNSTAPLED_PROBES) return false;
    if (existsSync(stapleFiles[index]!)) {
      stapled += 1;
      continue;
    }
    // A turn for /healthz and signals between parses, as the plan's own read gives (up to 64 bundles are parsed here).
    await yieldToEventLoop();
    if (await wouldBeStapled(candidate.file, probe)) return true;
    neverStapled += 1;
  }
  return false;
}

interface StapleProbe {
  readonly limits: CertificateFileLimits;
  readonly certificates: CertificateCache;
  readonly now: Date;
  /** --responder: every leaf is asked there, OCSP URL or not. */
  readonly responder: string | undefined;
}

/** Whether the file holds a leaf that a pass fetches a staple for (process-target.ts: a responder URL, not expired). */
async function wouldBeStapled(file: string, { limits, certificates, now, responder }: StapleProbe): Promise<boolean> {
  try {
    const loaded = await loadCertificateFile(file, certificates, limits);
    if (loaded.kind !== 'leaf') return false;
    return responderUrlsOf(loaded.leaf, responder).length > 0 && loaded.leaf.summary.notAfter > now;
  } catch {
    return false;
  }
}

/** The plan of a pass that most likely fetches nothing: staple paths from names, no file read, no leaf released early. */
function planWithoutFirstRead(stapleFiles: readonly string[]): DiscoveryPlan {
  const claims = countClaims(stapleFiles);
  return {
    streaming: false,
    stapleFiles,
    // An estimate for the progress bar (certbot's cert.pem and fullchain.pem share a leaf); exact at the end.
    expectedTargets: stapleFiles.length,
    isContested: (stapleFile) => (claims.get(stapleFile) ?? 0) > 1,
    release: () => undefined,
    takeBytes: () => undefined,
  };
}

function countClaims(stapleFiles: readonly string[]): Map<string, number> {
  const claims = new Map<string, number>();
  for (const stapleFile of stapleFiles) claims.set(stapleFile, (claims.get(stapleFile) ?? 0) + 1);
  return claims;
}

export interface PlanOptions {
  readonly limits: CertificateFileLimits;
  /** The pass's instant: an expired leaf without a staple does not make the pass cold. */
  readonly now: Date;
  /** The pass's cache: a file the staple probe parses is not parsed again. */
  readonly certificates?: CertificateCache;
  /** Told when a leaf among the first files has no staple on disk (a fetch is coming). */
  readonly onStapleMissing?: () => void;
}

/**
 * A file's leaf is its first certificate that is not a CA (loadCertificateFile), in practice its first one. Files
 * whose first certificate has fingerprint F are the only files that can hold leaf F, unless some file holds F
 * further down: then leaf F waits until every file is parsed. A file that cannot be read or decoded here has no
 * first fingerprint; when it parses after all (it changed between the reads), discovery treats it as a straggler.
 */
export async function planDiscovery(candidates: readonly CandidateFile[], config: StaplerdConfig, options: PlanOptions): Promise<DiscoveryPlan> {
  const { limits, onStapleMissing } = options;
  const stapleFiles = candidates.map((candidate) => stapleOutputPath(candidate.file, { certsRoot: candidate.certsRoot, outDir: config.out }));
  const certificates = options.certificates ?? new CertificateCache();
  const probe = { limits, certificates, now: options.now, responder: config.responder };
  if (!(await hasMissingStaple(candidates, stapleFiles, probe))) return planWithoutFirstRead(stapleFiles);
  // A certificate without a staple will be fetched for: tell the pass now, a parse ahead of its first request, so the
  // HTTP client loads while the tree is still read (issue 13: got's import took 0.16-0.45 s between the first target
  // and its request).
  onStapleMissing?.();
  const claims = countClaims(stapleFiles);
  const firstFingerprints: (string | undefined)[] = [];
  const unparsedByFingerprint = new Map<string, number>();
  const heldFurtherDown = new Set<string>();
  const keptBytes = new Map<number, Uint8Array>();
  const chainFingerprints = new Map<string, string>();
  let keptSize = 0;
  for (const [index, candidate] of candidates.entries()) {
    await yieldToEventLoop();
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
    streaming: true,
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
