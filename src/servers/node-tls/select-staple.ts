// Picks the staple to send for one TLS certificate: CertID match, cached full validation, time window at the clock's now.
import { StaplerdError } from '../../errors/index.js';
import { equalBytes, normalizeSerialHex } from '../../pki/der.js';
import { CertificateCache, type Certificate } from '../../pki/index.js';
import type { Clock } from '../../types/index.js';
import type { StapleCertId, StapleFile } from './staple-file.js';
import type { StapleCandidate } from './staple-store.js';
import { findServingProblem, judgeStaple, matchesIssuer, matchesIssuerName, type TimeWindow, type Verdict } from './staple-verdict.js';

export interface StapleSource {
  findBySerial(serialHex: string): readonly StapleCandidate[];
}

export interface SelectorOptions {
  readonly source: StapleSource;
  readonly clock: Clock;
  readonly window: TimeWindow;
  /** CA certificates to validate with when Node passes no issuer. */
  readonly issuers: readonly Certificate[];
  readonly report: (error: StaplerdError) => void;
}

/** Certificates Node passes on handshakes: enough for a server with many SNI names; past it the least recently used goes. */
const MAX_CACHED_CERTIFICATES = 256;

export class StapleSelector {
  readonly #options: SelectorOptions;
  readonly #certificates: CertificateCache;
  /** Per SingleResponse of a staple version, per issuer fingerprint: validated once, shared by concurrent handshakes. */
  readonly #verdicts = new WeakMap<StapleCertId, Map<string, Promise<Verdict>>>();
  readonly #configuredIssuers = new WeakMap<Certificate, Promise<Certificate | undefined>>();
  /** Codes already reported per staple version or certificate, so a handshake storm logs one line, not thousands. */
  readonly #reported = new WeakMap<StapleFile | Certificate, Set<string>>();

  constructor(options: SelectorOptions) {
    this.#options = options;
    this.#certificates = new CertificateCache({ maxEntries: MAX_CACHED_CERTIFICATES });
  }

  /** The DER staple to send, or null. Rejects only on a bug; the listener turns that into null too. */
  async select(certificateDer: Uint8Array, issuerDer: Uint8Array | null): Promise<Buffer | null> {
    const leaf = this.#certificates.parseShared(certificateDer, this.#options.report);
    if (!leaf) return null;
    const givenIssuer = issuerDer ? this.#certificates.parseShared(issuerDer, this.#options.report) : undefined;
    const candidates = this.#findCandidates(leaf, givenIssuer);
    if (candidates.length === 0) return null;
    const issuer = givenIssuer ?? (await this.#findConfiguredIssuer(leaf));
    if (!issuer) {
      this.#reportOnce(leaf, new StaplerdError('ISSUER_NOT_FOUND', `a staple for ${leaf.summary.subject} (serial ${leaf.summary.serialHex}) is not served: Node passed no issuer certificate and no configured issuer signed it; serve the full chain or pass \`issuers\``));
      return null;
    }
    return this.#pickServable(candidates, issuer);
  }

  /**
   * Staples whose CertID names the certificate's serial and issuer. When Node passes the issuer, its Name and key
   * hashes must match. Otherwise only the Name hash can be compared (from the leaf's issuer field); that shortlist is
   * then fully validated against a configured issuer, which compares the key hash too.
   */
  #findCandidates(leaf: Certificate, issuer: Certificate | undefined): StapleCandidate[] {
    const serialHex = normalizeSerialHex(leaf.summary.serialHex);
    return this.#options.source.findBySerial(serialHex).filter(({ certId }) => (
      issuer ? matchesIssuer(certId, issuer) : matchesIssuerName(certId, leaf.issuerNameDer)
    ));
  }

  /** A configured CA whose subject is the leaf's issuer name and whose key verifies the leaf's signature. */
  #findConfiguredIssuer(leaf: Certificate): Promise<Certificate | undefined> {
    let found = this.#configuredIssuers.get(leaf);
    if (!found) {
      found = findIssuer(leaf, this.#options.issuers);
      this.#configuredIssuers.set(leaf, found);
    }
    return found;
  }

  /** The genuine staple inside its time window with the latest thisUpdate (e.g. cert.pem.ocsp and fullchain.pem.ocsp). */
  async #pickServable(candidates: readonly StapleCandidate[], issuer: Certificate): Promise<Buffer | null> {
    const at = this.#options.clock.now();
    let best: { staple: StapleFile; thisUpdate: Date } | undefined;
    for (const candidate of candidates) {
      const verdict = await this.#judge(candidate, issuer, at);
      if (!verdict.genuine) continue;
      const problem = findServingProblem(verdict, at, this.#options.window);
      if (problem) {
        this.#reportOnce(candidate.staple, new StaplerdError(problem, describeProblem(problem, verdict, at), { file: candidate.staple.file }));
        continue;
      }
      if (!best || verdict.thisUpdate > best.thisUpdate) best = { staple: candidate.staple, thisUpdate: verdict.thisUpdate };
    }
    return best?.staple.der ?? null;
  }

  #judge({ staple, certId }: StapleCandidate, issuer: Certificate, at: Date): Promise<Verdict> {
    let byIssuer = this.#verdicts.get(certId);
    if (!byIssuer) {
      byIssuer = new Map();
      this.#verdicts.set(certId, byIssuer);
    }
    let verdict = byIssuer.get(issuer.summary.fingerprintSha256);
    if (!verdict) {
      verdict = judgeStaple(staple, certId, issuer, at, this.#options.window);
      byIssuer.set(issuer.summary.fingerprintSha256, verdict);
      // Cached per file version, so an invalid staple is reported once, when first judged.
      void verdict.then((result) => {
        if (!result.genuine) this.#options.report(result.error);
      });
    }
    return verdict;
  }

  #reportOnce(subject: StapleFile | Certificate, error: StaplerdError): void {
    const codes = this.#reported.get(subject) ?? new Set<string>();
    this.#reported.set(subject, codes);
    if (codes.has(error.code)) return;
    codes.add(error.code);
    this.#options.report(error);
  }
}

async function findIssuer(leaf: Certificate, issuers: readonly Certificate[]): Promise<Certificate | undefined> {
  for (const candidate of issuers) {
    if (!equalBytes(candidate.subjectNameDer, leaf.issuerNameDer)) continue;
    if (await leaf.isIssuedBy(candidate)) return candidate;
  }
  return undefined;
}

function describeProblem(problem: string, verdict: Verdict & { genuine: true }, at: Date): string {
  const now = at.toISOString();
  if (problem === 'RESPONSE_NOT_YET_VALID') return `staple not served yet: thisUpdate ${verdict.thisUpdate.toISOString()} is after ${now}`;
  if (problem === 'RESPONSE_EXPIRED') return `staple not served: nextUpdate ${verdict.nextUpdate.toISOString()} has passed or is too close at ${now}`;
  return 'staple not served: the responder answered "unknown" for this certificate';
}
