// Finds the issuer of a leaf: same file, sibling chain.pem/fullchain.pem, the issuer directory, then AIA caIssuers.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StaplerdError, toStaplerdError } from '../errors/index.js';
import type { Certificate } from '../pki/certificate.js';
import { parseCertificateBundle } from '../pki/certificate-bundle.js';
import { computeSha256Hex } from '../pki/digest.js';
import { CertificateCache, loadCertificateFile } from './load-certificate-file.js';

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
}

export interface ResolvedIssuer {
  readonly issuer: Certificate;
  /** Where it came from; HAProxy needs `<crt>.issuer` when it is not in the PEM itself. */
  readonly source: 'file' | 'sibling' | 'issuer-dir' | 'aia';
}

/** Caches certificates read from sibling files and the issuer directory for the length of one pass. */
export class IssuerResolver {
  private readonly fileCache = new Map<string, Promise<readonly Certificate[]>>();
  private issuerDirCache?: Promise<readonly Certificate[]>;
  private readonly bundleCache = new Map<string, readonly Certificate[]>();

  constructor(private readonly sources: IssuerSources) {}

  async resolve(leaf: Certificate, sameFileChain: readonly Certificate[], file: string): Promise<ResolvedIssuer> {
    const fromFile = await findIssuerAmong(leaf, sameFileChain);
    if (fromFile) return { issuer: fromFile, source: 'file' };

    for (const name of SIBLING_CHAIN_FILES) {
      const sibling = join(dirname(file), name);
      if (sibling === file) continue;
      const found = await findIssuerAmong(leaf, await this.readCertificates(sibling));
      if (found) return { issuer: found, source: 'sibling' };
    }

    if (this.sources.issuerDir) {
      const found = await findIssuerAmong(leaf, await this.readIssuerDir());
      if (found) return { issuer: found, source: 'issuer-dir' };
    }

    const aiaErrors: string[] = [];
    if (this.sources.fetchCaIssuer) {
      for (const url of leaf.summary.caIssuersUrls) {
        try {
          const bundle = this.parseBundle(await this.sources.fetchCaIssuer(url), url);
          const found = await findIssuerAmong(leaf, bundle);
          if (found) return { issuer: found, source: 'aia' };
          aiaErrors.push(`${url}: no certificate there signed this one`);
        } catch (error) {
          const err = toStaplerdError(error);
          aiaErrors.push(`${url}: ${err.code} ${err.message}`);
        }
      }
    }
    const tried = ['the file itself', 'sibling chain.pem/fullchain.pem'];
    if (this.sources.issuerDir) tried.push(`issuer directory ${this.sources.issuerDir}`);
    if (leaf.summary.caIssuersUrls.length > 0) tried.push(`AIA caIssuers (${aiaErrors.join('; ') || 'not fetched'})`);
    throw new StaplerdError('ISSUER_NOT_FOUND', `no issuer for "${leaf.summary.subject}" (issued by "${leaf.summary.issuer}"); looked in ${tried.join(', ')}`, {
      file,
    });
  }

  /** One parse per distinct download in a pass: thousands of leaves of one CA name the same caIssuers URL. */
  private parseBundle(bytes: Uint8Array, url: string): readonly Certificate[] {
    const key = `${url}\n${computeSha256Hex(bytes)}`;
    let bundle = this.bundleCache.get(key);
    if (!bundle) {
      bundle = parseCertificateBundle(bytes, url);
      this.bundleCache.set(key, bundle);
    }
    return bundle;
  }

  private readCertificates(file: string): Promise<readonly Certificate[]> {
    let cached = this.fileCache.get(file);
    if (!cached) {
      cached = loadCertificateFile(file, this.sources.certificates).then(
        (loaded) => (loaded.kind === 'leaf' ? [loaded.leaf, ...loaded.chain] : loaded.chain),
        () => [], // a missing or broken sibling is simply not a source
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

/** The issuer is the certificate whose subject matches the leaf's issuer and whose key verifies the leaf's signature. */
async function findIssuerAmong(leaf: Certificate, candidates: readonly Certificate[]): Promise<Certificate | undefined> {
  for (const candidate of candidates) {
    if (candidate.summary.fingerprintSha256 === leaf.summary.fingerprintSha256) continue;
    if (await leaf.isIssuedBy(candidate)) return candidate;
  }
  return undefined;
}
