// Finds the issuer of a leaf: same file, sibling chain.pem/fullchain.pem, the issuer directory, then AIA caIssuers.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StaplerdError, toStaplerdError } from '../errors/index.js';
import type { Certificate } from '../pki/certificate.js';
import { parseCertificateBundle } from '../pki/certificate-bundle.js';
import type { ValidationMemos } from '../pki/validation-memos.js';
import { equalBytes } from '../pki/der.js';
import { computeSha256Hex } from '../pki/digest.js';
import type { CertificateCache } from '../pki/certificate-cache.js';
import { DEFAULT_CERTIFICATE_FILE_LIMITS, loadCertificateFile, type CertificateFileLimits } from './load-certificate-file.js';

/** certbot writes cert.pem beside chain.pem and fullchain.pem (https://eff-certbot.readthedocs.io, "Where are my certificates?"). */
const SIBLING_CHAIN_FILES = ['chain.pem', 'fullchain.pem'];

export interface IssuerSources {
  /** Extra directory of CA certificates (configured `issuerDir`). */
  readonly issuerDir?: string;
  readonly extensions: readonly string[];
  /** Downloads an AIA caIssuers URL (same limits as OCSP, cached). */
  readonly fetchCaIssuer?: (url: string) => Promise<Uint8Array>;
  /** The pass's parsed certificates, shared with the files already read. */
  readonly certificates?: CertificateCache;
  /** Caps on sibling chain files and issuer-directory files; default DEFAULT_CERTIFICATE_FILE_LIMITS. */
  readonly fileLimits?: CertificateFileLimits;
  /** Most certificates named like a leaf's issuer whose signature check is tried for it; default 16. */
  readonly maxIssuerCandidates?: number;
}

/**
 * A leaf has one issuer, sometimes a handful of same-named ones (a cross-sign, a re-keyed intermediate). Each
 * look-alike costs a signature verification: a PEM with 10,000 of them took 8 s for one certificate.
 */
export const DEFAULT_MAX_ISSUER_CANDIDATES = 16;

/** Signature checks left for one leaf across every source; exhausted means CERT_LIMIT_EXCEEDED. */
interface CandidateBudget {
  readonly limit: number;
  remaining: number;
}

/** A sibling or issuer-directory file that exists but was refused, for the ISSUER_NOT_FOUND message. */
interface UnreadableSource {
  readonly file: string;
  readonly error: StaplerdError;
}

export interface ResolvedIssuer {
  readonly issuer: Certificate;
  /** Where it came from; HAProxy needs `<crt>.issuer` when it is not in the PEM itself. */
  readonly source: 'file' | 'sibling' | 'issuer-dir' | 'aia';
}

/** Caches certificates read from sibling files and the issuer directory for the length of one pass. */
export class IssuerResolver {
  private readonly fileCache = new Map<string, Promise<readonly Certificate[]>>();
  /** Sibling and issuer-directory files that exist but could not be used (a FIFO, too large, corrupt). */
  private readonly unreadable = new Map<string, StaplerdError>();
  private issuerDirCache?: Promise<readonly Certificate[]>;
  private readonly bundleCache = new Map<string, readonly Certificate[]>();

  constructor(private readonly sources: IssuerSources) {}

  /**
   * resolve's answer when it needs no promise: the first candidate in the leaf's own file is remembered to have signed
   * it (a warm pass). Undefined otherwise: resolve decides.
   */
  resolveRemembered(leaf: Certificate, sameFileChain: readonly Certificate[]): ResolvedIssuer | undefined {
    const issuer = findRememberedIssuer(leaf, sameFileChain, this.#newBudget(), this.sources.certificates?.memos);
    return issuer && { issuer, source: 'file' };
  }

  async resolve(leaf: Certificate, sameFileChain: readonly Certificate[], file: string): Promise<ResolvedIssuer> {
    const budget = this.#newBudget();
    const find = (candidates: readonly Certificate[]): Promise<Certificate | undefined> => findIssuerAmong(leaf, candidates, budget, file, this.sources.certificates?.memos);
    const fromFile = await find(sameFileChain);
    if (fromFile) return { issuer: fromFile, source: 'file' };

    const refused: UnreadableSource[] = [];
    for (const name of SIBLING_CHAIN_FILES) {
      const sibling = join(dirname(file), name);
      if (sibling === file) continue;
      const found = await find(await this.readCertificates(sibling));
      if (found) return { issuer: found, source: 'sibling' };
      const problem = this.unreadable.get(sibling);
      if (problem) refused.push({ file: sibling, error: problem });
    }

    if (this.sources.issuerDir) {
      const found = await find(await this.readIssuerDir());
      if (found) return { issuer: found, source: 'issuer-dir' };
    }

    const aiaErrors: string[] = [];
    if (this.sources.fetchCaIssuer) {
      for (const url of leaf.summary.caIssuersUrls) {
        try {
          const bundle = this.parseBundle(await this.sources.fetchCaIssuer(url), url);
          const found = await find(bundle);
          if (found) return { issuer: found, source: 'aia' };
          aiaErrors.push(`${url}: no certificate there signed this one`);
        } catch (error) {
          const err = toStaplerdError(error);
          if (err.code === 'CERT_LIMIT_EXCEEDED') throw err;
          aiaErrors.push(`${url}: ${err.code} ${err.message}`);
        }
      }
    }
    const tried = ['the file itself', 'sibling chain.pem/fullchain.pem'];
    // A sibling chain that is a FIFO, too large or corrupt is named with its code: silence would hide why.
    for (const { file: sibling, error } of refused) tried.push(`${sibling} (refused: ${error.code} ${error.message})`);
    if (this.sources.issuerDir) tried.push(`issuer directory ${this.sources.issuerDir}`);
    if (leaf.summary.caIssuersUrls.length > 0) tried.push(`AIA caIssuers (${aiaErrors.join('; ') || 'not fetched'})`);
    throw new StaplerdError('ISSUER_NOT_FOUND', `no issuer for "${leaf.summary.subject}" (issued by "${leaf.summary.issuer}"); looked in ${tried.join(', ')}`, {
      file,
    });
  }

  #newBudget(): CandidateBudget {
    const limit = this.sources.maxIssuerCandidates ?? DEFAULT_MAX_ISSUER_CANDIDATES;
    return { limit, remaining: limit };
  }

  /** One parse per distinct download in a pass: thousands of leaves of one CA name the same caIssuers URL. */
  private parseBundle(bytes: Uint8Array, url: string): readonly Certificate[] {
    const key = `${url}\n${computeSha256Hex(bytes)}`;
    let bundle = this.bundleCache.get(key);
    if (!bundle) {
      bundle = parseCertificateBundle(bytes, url, this.sources.certificates?.memos);
      this.bundleCache.set(key, bundle);
    }
    return bundle;
  }

  private readCertificates(file: string): Promise<readonly Certificate[]> {
    let cached = this.fileCache.get(file);
    if (!cached) {
      cached = loadCertificateFile(file, this.sources.certificates, this.sources.fileLimits ?? DEFAULT_CERTIFICATE_FILE_LIMITS).then(
        (loaded) => (loaded.kind === 'leaf' ? [loaded.leaf, ...loaded.chain] : loaded.chain),
        (error: unknown) => {
          // A missing sibling is simply not a source; one that exists but is refused is named if no issuer is found.
          const err = toStaplerdError(error, 'CERT_PARSE_FAILED', { file });
          if (!isMissingFile(err)) this.unreadable.set(file, err);
          return [];
        },
      );
      this.fileCache.set(file, cached);
    }
    return cached;
  }

  private readIssuerDir(): Promise<readonly Certificate[]> {
    if (!this.issuerDirCache) {
      const dir = this.sources.issuerDir!;
      this.issuerDirCache = readdir(dir)
        .then(async (names) => {
          const files = names.filter((name) => this.sources.extensions.some((ext) => name.toLowerCase().endsWith(ext.toLowerCase())));
          const lists = await Promise.all(files.map((name) => this.readCertificates(join(dir, name))));
          return lists.flat();
        })
        .catch(() => []);
    }
    return this.issuerDirCache;
  }
}

/** CERT_UNREADABLE from a file that does not exist: the usual case for a sibling chain.pem. */
function isMissingFile(error: StaplerdError): boolean {
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  return error.code === 'CERT_UNREADABLE' && (cause?.code === 'ENOENT' || cause?.code === 'ENOTDIR');
}

/** A candidate worth a signature check: another certificate whose subject is the leaf's issuer Name (DER compared). */
function isNamedAsIssuerOf(leaf: Certificate, candidate: Certificate): boolean {
  return candidate.summary.fingerprintSha256 !== leaf.summary.fingerprintSha256 && equalBytes(candidate.subjectNameDer, leaf.issuerNameDer);
}

/**
 * findIssuerAmong's answer without its async steps, when the first candidate it would check is remembered to have
 * signed the leaf (a warm pass: each leaf's CA in its own file, verified by an earlier run). Else undefined, and
 * findIssuerAmong decides; so a file whose first look-alike is not the issuer is judged exactly as before.
 */
function findRememberedIssuer(leaf: Certificate, candidates: readonly Certificate[], budget: CandidateBudget, memos: ValidationMemos | undefined): Certificate | undefined {
  if (!memos || budget.remaining <= 0) return undefined;
  const first = candidates.find((candidate) => isNamedAsIssuerOf(leaf, candidate));
  if (!first || !leaf.isRememberedIssuedBy(first, memos)) return undefined;
  budget.remaining -= 1;
  return first;
}

/**
 * The issuer is the certificate whose subject matches the leaf's issuer and whose key verifies the leaf's signature.
 * Name comparisons are free; each signature check spends one unit of the leaf's budget.
 */
async function findIssuerAmong(
  leaf: Certificate, candidates: readonly Certificate[], budget: CandidateBudget, file: string, memos: ValidationMemos | undefined,
): Promise<Certificate | undefined> {
  for (const candidate of candidates) {
    if (!isNamedAsIssuerOf(leaf, candidate)) continue;
    if (budget.remaining <= 0) {
      throw new StaplerdError(
        'CERT_LIMIT_EXCEEDED',
        `more certificates are named like the issuer of "${leaf.summary.subject}" ("${leaf.summary.issuer}") than the ${budget.limit} checked (maxIssuerCandidates); stopped looking`,
        { file },
      );
    }
    budget.remaining -= 1;
    if (await leaf.isIssuedBy(candidate, memos)) return candidate;
  }
  return undefined;
}
