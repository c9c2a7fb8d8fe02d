// Turns the certificate directories into staple targets: one per distinct leaf, with its issuer and every file it lives in.
import type { StaplerdConfig } from '../config/index.js';
import { findCertificateFiles, IssuerResolver, loadCertificateFile, type ResolvedIssuer } from '../discovery/index.js';
import { policyForCode, StaplerdError, toStaplerdError } from '../errors/index.js';
import type { Certificate } from '../pki/certificate.js';
import { CertificateCache } from '../pki/certificate-cache.js';
import type { ValidationMemos } from '../pki/validation-memos.js';
import { findSymlinkUnderOut, stapleOutputPath, type OutTreeCache } from '../output/staple-paths.js';
import { crlUrlsToCheck } from './crl-revocation.js';
import { mapWithConcurrency } from './map-with-concurrency.js';
import { yieldToEventLoop } from './yield-to-event-loop.js';

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

// File reads and signature checks are cheap and local: a wider limit than network concurrency is fine.
const LOAD_CONCURRENCY = 64;

export async function collectTargets(
  config: StaplerdConfig,
  options: { now: Date; memos?: ValidationMemos; fetchCaIssuer?: (url: string) => Promise<Uint8Array>; onDirectoryError?: (path: string, error: Error) => void },
): Promise<CollectedTargets> {
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
  const loaded = await mapWithConcurrency(candidates, LOAD_CONCURRENCY, async (candidate) => {
    await yieldToEventLoop();
    try {
      return { candidate, loaded: await loadCertificateFile(candidate.file, certificates, fileLimits) };
    } catch (error) {
      problems.push({ certFile: candidate.file, error: toStaplerdError(error, 'CERT_PARSE_FAILED', { file: candidate.file }) });
      return undefined;
    }
  });

  const outTree: OutTreeCache = new Map();
  const groups = new Map<string, { leaf: Certificate; chain: readonly Certificate[]; firstFile: string; files: TargetFile[] }>();
  for (const item of loaded) {
    if (!item || item.loaded.kind !== 'leaf') continue;
    const { candidate, loaded: file } = item;
    const key = file.leaf.summary.fingerprintSha256;
    const target: TargetFile = {
      certFile: candidate.file,
      stapleFile: stapleOutputPath(candidate.file, { certsRoot: candidate.certsRoot, outDir: config.out }),
    };
    const unsafe = config.out === undefined ? undefined : findSymlinkUnderOut(target.stapleFile, config.out, outTree);
    if (unsafe !== undefined) {
      const message = `staple path ${target.stapleFile} passes through the symlink ${unsafe} inside the output directory; not written (replace the link with a directory)`;
      problems.push({ certFile: candidate.file, error: new StaplerdError('OUTPUT_PATH_UNSAFE', message, { file: candidate.file }) });
      continue;
    }
    const group = groups.get(key);
    if (group) {
      group.files.push(target);
      // Prefer a file that carries the chain, so the issuer is found without looking further.
      if (group.chain.length === 0 && file.chain.length > 0) group.chain = file.chain;
    } else {
      groups.set(key, { leaf: file.leaf, chain: file.chain, firstFile: candidate.file, files: [target] });
    }
  }

  dropConflictingStapleFiles(groups, problems);

  const resolver = new IssuerResolver({
    issuerDir: config.issuerDir,
    extensions: config.extensions,
    fetchCaIssuer: options.fetchCaIssuer,
    certificates,
    fileLimits,
    maxIssuerCandidates: config.maxIssuerCandidates,
  });
  const targets = await mapWithConcurrency([...groups.entries()], LOAD_CONCURRENCY, async ([key, group]) => {
    // No issuer is needed (and no AIA download made) for a certificate that will not be fetched for.
    const hasResponder = group.leaf.summary.ocspUrls.length > 0 || config.responder !== undefined;
    // A CRL is checked with the issuer's key too (crl-revocation.ts decides which certificates have one checked).
    const needsIssuer = hasResponder || crlUrlsToCheck(group, config.crlCheck, hasResponder).length > 0;
    if (!needsIssuer || group.leaf.summary.notAfter <= options.now) {
      return { key, leaf: group.leaf, files: group.files } satisfies StapleTarget;
    }
    try {
      const issuer = await resolver.resolve(group.leaf, group.chain, group.firstFile);
      return { key, leaf: group.leaf, files: group.files, issuer } satisfies StapleTarget;
    } catch (error) {
      return { key, leaf: group.leaf, files: group.files, issuerError: toStaplerdError(error, 'ISSUER_NOT_FOUND', { file: group.firstFile }) } satisfies StapleTarget;
    }
  });
  return { targets, problems, notices, scannedFiles: candidates.length };
}

/**
 * With --out, `a/live/x/fullchain.pem` and `b/live/x/fullchain.pem` mirror to the same staple path. When those hold
 * different certificates, whichever was written last would be served for both: a wrong staple. Neither is written,
 * a staple already there is removed by the pass (it may be the other one's), and each file gets OUTPUT_CONFLICT
 * naming the other. (The same certificate in both is fine: one staple fits both.)
 */
function dropConflictingStapleFiles(groups: Map<string, { files: TargetFile[] }>, problems: FileProblem[]): void {
  const owners = new Map<string, { key: string; certFile: string }[]>();
  for (const [key, group] of groups) {
    for (const file of group.files) owners.set(file.stapleFile, [...(owners.get(file.stapleFile) ?? []), { key, certFile: file.certFile }]);
  }
  for (const [stapleFile, claims] of owners) {
    if (new Set(claims.map((c) => c.key)).size < 2) continue;
    for (const claim of claims) {
      const others = claims.filter((c) => c.key !== claim.key).map((c) => c.certFile);
      const message = `staple path ${stapleFile} is also the staple path of ${others.join(', ')}, which holds another certificate: give these --certs directories different --out directories`;
      problems.push({ certFile: claim.certFile, error: new StaplerdError('OUTPUT_CONFLICT', message, { file: claim.certFile }), staleStapleFile: stapleFile });
    }
    for (const group of groups.values()) group.files = group.files.filter((file) => file.stapleFile !== stapleFile);
  }
  for (const [key, group] of groups) if (group.files.length === 0) groups.delete(key);
}
