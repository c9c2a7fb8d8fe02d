// Discovery as a stream: each leaf's target is handed on as soon as no file still to be parsed can hold that leaf.
import type { StaplerdConfig } from '../config/index.js';
import { findCertificateFiles, IssuerResolver, loadCertificateFile, parseCertificateFileBytes, type CandidateFile, type LoadedCertificateFile } from '../discovery/index.js';
import { policyForCode, StaplerdError, toStaplerdError } from '../errors/index.js';
import type { Certificate } from '../pki/certificate.js';
import { CertificateCache } from '../pki/certificate-cache.js';
import type { ValidationMemos } from '../pki/validation-memos.js';
import { interleaveByHost } from '../ocsp/index.js';
import { findSymlinkUnderOut, type OutTreeCache } from '../output/staple-paths.js';
import { responderUrlsOf, type FileProblem, type StapleTarget, type TargetFile } from './collect-targets.js';
import { mapWithConcurrency } from './map-with-concurrency.js';
import { crlUrlsToCheck } from './crl-revocation.js';
import { planDiscovery } from './plan-discovery.js';
import { createSlicedYield } from './yield-to-event-loop.js';

export interface DiscoverOptions {
  readonly now: Date;
  readonly memos?: ValidationMemos;
  readonly fetchCaIssuer?: (url: string) => Promise<Uint8Array>;
  readonly onDirectoryError?: (path: string, error: Error) => void;
  /** Told once, before the first target, about how many targets to expect (the progress bar's first total). */
  readonly onExpected?: (count: number) => void;
  /** Told once, early, when a fetch looks certain (a certificate without a staple on disk), so the HTTP client can
   *  load before the first target is ready; discovery parses on once the first target is handed on and this settles. */
  readonly onFetchLikely?: () => Promise<void> | undefined;
  /** Each target, once; `order` is its place in discovery order (the file order of its first file). */
  readonly onTarget: (target: StapleTarget, order: number) => void;
}

export interface DiscoveryResult {
  readonly problems: readonly FileProblem[];
  /** What discovery refused without it failing the pass (DIRECTORY_REFUSED: /proc, a link to /): logged only. */
  readonly notices: readonly FileProblem[];
  readonly scannedFiles: number;
  readonly targetCount: number;
}

interface LeafGroup {
  readonly key: string;
  readonly leaf: Certificate;
  /** The group's files with their place in file order and the chain each carries. */
  readonly entries: { index: number; file: TargetFile; chain: readonly Certificate[] }[];
  /** Some file's staple path is claimed by another file too: OUTPUT_CONFLICT is decided once every file is parsed. */
  contested: boolean;
}

// Issuer checks are cheap and local (an AIA download the exception): a wider limit than network concurrency is fine.
const LOAD_CONCURRENCY = 64;
/** How long discovery parses before letting waiting responses through (createSlicedYield). */
const PARSE_SLICE_MS = 2;

/**
 * Issue 13: fetching waited for every file to be parsed (half a millisecond of asn1js each) and every issuer to be
 * resolved. Now a first read hashes every file's certificates without parsing them (planDiscovery), which says
 * which files can hold a given leaf; a leaf is handed on once those files are parsed, while the others still are.
 * Two rules keep their whole-tree view: a leaf found in several files is one target with all of them, and two
 * certificates claiming one staple path (OUTPUT_CONFLICT) write neither; leaves those rules concern wait to the end.
 */
export async function discoverTargets(config: StaplerdConfig, options: DiscoverOptions): Promise<DiscoveryResult> {
  const problems: FileProblem[] = [];
  const notices: FileProblem[] = [];
  const candidates = await findCertificateFiles(config.certs, {
    extensions: config.extensions,
    onError: options.onDirectoryError,
    // Refusals whose code fails a pass (a FIFO named like a certificate, a name that is not UTF-8) are problems.
    onRefused: (path, error) => (policyForCode(error.code).exitCode === 0 ? notices : problems).push({ certFile: path, error }),
  });
  // One parse per distinct certificate: the CA in every fullchain file is the same object for all of them.
  const certificates = new CertificateCache({ memos: options.memos });
  const fileLimits = { maxFileBytes: config.maxCertificateFileBytes, maxCertificates: config.maxCertificatesPerFile };
  const client = createClientGate(options.onFetchLikely);
  const plan = await planDiscovery(candidates, config, { limits: fileLimits, now: options.now, certificates, onStapleMissing: client.onFetchLikely });
  options.onExpected?.(plan.expectedTargets);
  const resolver = new IssuerResolver({
    issuerDir: config.issuerDir,
    extensions: config.extensions,
    fetchCaIssuer: options.fetchCaIssuer,
    certificates,
    fileLimits,
    maxIssuerCandidates: config.maxIssuerCandidates,
  });
  const groups = new Map<string, LeafGroup>();
  const handedOn = new Set<LeafGroup>();
  /** Leaves whose group was handed on before this file appeared (it changed between the two reads): fetched apart. */
  const stragglers: LeafGroup[] = [];
  // Issuers are resolved (an AIA download at worst) beside the parsing, at most LOAD_CONCURRENCY at once.
  const resolving = new Set<Promise<void>>();
  const handOn = async (group: LeafGroup): Promise<void> => {
    handedOn.add(group);
    const order = Math.min(...group.entries.map((entry) => entry.index));
    const target = completeTarget(group, config, resolver, options.now);
    options.onTarget(target instanceof Promise ? await target : target, order);
  };
  const outTree: OutTreeCache = new Map();
  const yieldNow = createSlicedYield(PARSE_SLICE_MS);

  // One file after another: parsing is synchronous, so more at once would only hold the event loop longer. The
  // --certs roots take turns (in file order within each): roots often hold different CAs, whose responders can
  // then all start at once instead of one after the other (issue 13's hosts that must not wait for each other).
  for (const index of interleaveByHost([...candidates.keys()], (index) => candidates[index]!.certsRoot)) {
    const candidate = candidates[index]!;
    await yieldNow();
    let loaded: LoadedCertificateFile | undefined;
    try {
      const bytes = plan.takeBytes(index);
      loaded = bytes
        ? parseCertificateFileBytes(bytes, candidate.file, certificates, fileLimits.maxCertificates)
        : await loadCertificateFile(candidate.file, certificates, fileLimits);
    } catch (error) {
      problems.push({ certFile: candidate.file, error: toStaplerdError(error, 'CERT_PARSE_FAILED', { file: candidate.file }) });
    }
    if (loaded?.kind === 'leaf') {
      const entry = { index, file: { certFile: candidate.file, stapleFile: plan.stapleFiles[index]! }, chain: loaded.chain };
      const unsafe = findUnsafeStaplePath(entry.file, candidate, config, outTree);
      if (unsafe) problems.push(unsafe);
      else addToGroup(groups, stragglers, handedOn, loaded.leaf, entry, plan.isContested(entry.file.stapleFile));
    }
    const ready = plan.release(index);
    const group = ready === undefined ? undefined : groups.get(ready);
    if (!group || group.contested || handedOn.has(group)) continue;
    if (resolving.size >= LOAD_CONCURRENCY) await Promise.race(resolving);
    const handing = handOn(group).finally(() => resolving.delete(handing));
    resolving.add(handing);
    await client.waitAfterFirstTarget();
  }
  await Promise.all(resolving);

  // Every file is parsed: what is left needed the whole tree (a shared staple path, a leaf not first in its file).
  const rest = [...groups.values(), ...stragglers].filter((group) => !handedOn.has(group));
  rest.sort((a, b) => a.entries[0]!.index - b.entries[0]!.index);
  const kept = dropConflictingStapleFiles(rest, problems);
  await mapWithConcurrency(kept, LOAD_CONCURRENCY, handOn);
  return { problems, notices, scannedFiles: candidates.length, targetCount: handedOn.size };
}

/**
 * The first target's request waits for the HTTP client, whose import (got and its 60-odd modules, about 0.2 s of CPU)
 * only advanced between parse slices: parsing on delayed the first request of a 1,000-certificate pass (0.79 s after
 * spawn, session 7 profile). Once the first target is on its way, the rest of the tree waits for the import instead:
 * the same CPU, spent in the order the first request needs it. Only the first wait waits; later calls return at once.
 */
function createClientGate(onFetchLikely: DiscoverOptions['onFetchLikely']): { onFetchLikely?: () => void; waitAfterFirstTarget: () => Promise<void> } {
  let loading: Promise<void> | undefined;
  return {
    onFetchLikely: onFetchLikely && ((): void => {
      loading = onFetchLikely();
    }),
    waitAfterFirstTarget: async () => {
      const pending = loading;
      loading = undefined;
      // A client that failed to load fails its first request; the parse goes on either way.
      if (pending) await pending.catch(() => undefined);
    },
  };
}

function addToGroup(
  groups: Map<string, LeafGroup>,
  stragglers: LeafGroup[],
  handedOn: ReadonlySet<LeafGroup>,
  leaf: Certificate,
  entry: LeafGroup['entries'][number],
  contested: boolean,
): void {
  const key = leaf.summary.fingerprintSha256;
  const group = groups.get(key);
  if (group && handedOn.has(group)) {
    stragglers.push({ key, leaf, entries: [entry], contested });
  } else if (group) {
    group.entries.push(entry);
    group.contested ||= contested;
  } else {
    groups.set(key, { key, leaf, entries: [entry], contested });
  }
}

/** A staple path under --out that passes through a symlink is not written (OUTPUT_PATH_UNSAFE). */
function findUnsafeStaplePath(file: TargetFile, candidate: CandidateFile, config: StaplerdConfig, outTree: OutTreeCache): FileProblem | undefined {
  const unsafe = config.out === undefined ? undefined : findSymlinkUnderOut(file.stapleFile, config.out, outTree);
  if (unsafe === undefined) return undefined;
  const message = `staple path ${file.stapleFile} passes through the symlink ${unsafe} inside the output directory; not written (replace the link with a directory)`;
  return { certFile: candidate.file, error: new StaplerdError('OUTPUT_PATH_UNSAFE', message, { file: candidate.file }) };
}

/**
 * The group as a target: files in file order, and its issuer unless no fetch will be made for it. A promise only when
 * the issuer must be looked for: a warm pass takes each issuer its memo remembers without one (resolveRemembered).
 */
function completeTarget(group: LeafGroup, config: StaplerdConfig, resolver: IssuerResolver, now: Date): StapleTarget | Promise<StapleTarget> {
  const entries = [...group.entries].sort((a, b) => a.index - b.index);
  const { key, leaf } = group;
  const files = entries.map((entry) => entry.file);
  const firstFile = files[0]!.certFile;
  // No issuer is needed (and no AIA download made) for a certificate that will not be fetched for.
  const hasResponder = responderUrlsOf(leaf, config.responder).length > 0;
  // A CRL is checked with the issuer's key too (crl-revocation.ts decides which certificates have one checked).
  const needsIssuer = hasResponder || crlUrlsToCheck({ leaf }, config.crlCheck, hasResponder).length > 0;
  if (!needsIssuer || leaf.summary.notAfter <= now) return { key, leaf, files };
  // Prefer a file that carries the chain, so the issuer is found without looking further.
  const chain = entries.find((entry) => entry.chain.length > 0)?.chain ?? [];
  const remembered = resolver.resolveRemembered(leaf, chain);
  if (remembered) return { key, leaf, files, issuer: remembered };
  return resolver.resolve(leaf, chain, firstFile).then(
    (issuer) => ({ key, leaf, files, issuer }),
    (error: unknown) => ({ key, leaf, files, issuerError: toStaplerdError(error, 'ISSUER_NOT_FOUND', { file: firstFile }) }),
  );
}

/**
 * With --out, `a/live/x/fullchain.pem` and `b/live/x/fullchain.pem` mirror to the same staple path. When those hold
 * different certificates, whichever was written last would be served for both: a wrong staple. Neither is written,
 * a staple already there is removed by the pass (it may be the other one's), and each file gets OUTPUT_CONFLICT
 * naming the other. (The same certificate in both is fine: one staple fits both.) Returns the groups with files left.
 */
function dropConflictingStapleFiles(groups: readonly LeafGroup[], problems: FileProblem[]): LeafGroup[] {
  const owners = new Map<string, { key: string; certFile: string }[]>();
  for (const group of groups) {
    for (const { file } of group.entries) {
      const claim = { key: group.key, certFile: file.certFile };
      const claims = owners.get(file.stapleFile);
      if (claims) claims.push(claim);
      else owners.set(file.stapleFile, [claim]);
    }
  }
  const refused = new Set<string>();
  for (const [stapleFile, claims] of owners) {
    // A warm pass brings every group here: a path claimed once (nearly all) costs no Set.
    if (claims.length < 2 || new Set(claims.map((c) => c.key)).size < 2) continue;
    refused.add(stapleFile);
    for (const claim of claims) {
      const others = claims.filter((c) => c.key !== claim.key).map((c) => c.certFile);
      const message = `staple path ${stapleFile} is also the staple path of ${others.join(', ')}, which holds another certificate: give these --certs directories different --out directories`;
      problems.push({ certFile: claim.certFile, error: new StaplerdError('OUTPUT_CONFLICT', message, { file: claim.certFile }), staleStapleFile: stapleFile });
    }
  }
  if (refused.size === 0) return [...groups];
  return groups
    .map((group) => ({ ...group, entries: group.entries.filter((entry) => !refused.has(entry.file.stapleFile)) }))
    .filter((group) => group.entries.length > 0);
}
