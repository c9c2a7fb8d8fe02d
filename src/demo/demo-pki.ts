// A throwaway three-tier PKI (root, intermediate, delegated OCSP responder) for `staplerd demo` and the tests.
import { generateKeyPair, type KeyAlgorithm, type KeyPair } from './key-pair.js';
import { issueCertificate } from './issue-certificate.js';
import type { Certificate } from '../pki/certificate.js';

export interface IssuedIdentity {
  readonly certificate: Certificate;
  readonly keys: KeyPair;
}

export interface DemoAuthority {
  readonly root: IssuedIdentity;
  readonly intermediate: IssuedIdentity;
  /** Delegated responder (EKU id-kp-OCSPSigning, ocsp-nocheck) issued by the intermediate (RFC 6960 4.2.2.2). */
  readonly responder: IssuedIdentity;
  /** AIA defaults for leaves issued with issueLeaf. */
  readonly ocspUrl?: string;
  readonly caIssuersUrl?: string;
  /** The `now` the authority was created for; leaves' default validity counts from it too. */
  readonly issuedAt: Date;
}

export interface DemoAuthorityOptions {
  /** Put in the AIA of the intermediate and, by default, of every leaf. */
  ocspUrl?: string;
  /** Put in the AIA of leaves by default: where the intermediate would be published. */
  caIssuersUrl?: string;
  /** The instant validity periods are counted from; default the current time. */
  now?: Date;
  /** Key type of all four tiers; default ec-p256 (fast). */
  algorithm?: KeyAlgorithm;
}

export interface LeafOptions {
  commonName: string;
  /** Default [authority.ocspUrl] when the authority has one. Pass [] for a certificate without OCSP (Let's Encrypt style). */
  ocspUrls?: string[];
  caIssuersUrls?: string[];
  mustStaple?: boolean;
  /** Default authority.issuedAt - 1 h .. authority.issuedAt + 90 d. */
  notBefore?: Date;
  notAfter?: Date;
  /** Default: a fresh key pair of the authority's algorithm. */
  keys?: KeyPair;
  serialHex?: string;
  /** SAN iPAddresses (IPv4 dotted quads) besides the dNSName commonName: a server reached by address (tests' Redis). */
  ipAddresses?: string[];
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const ORGANIZATION = 'staplerd demo';

export async function createDemoAuthority(options: DemoAuthorityOptions = {}): Promise<DemoAuthority> {
  const now = (options.now ?? new Date()).getTime();
  const algorithm = options.algorithm ?? 'ec-p256';
  const [rootKeys, intermediateKeys, responderKeys] = await Promise.all([
    generateKeyPair(algorithm),
    generateKeyPair(algorithm),
    generateKeyPair(algorithm),
  ]);
  const rootCertificate = await issueCertificate({
    subject: { commonName: 'staplerd Demo Root CA', organization: ORGANIZATION },
    keys: rootKeys,
    isCA: true,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
  });
  const root = { certificate: rootCertificate, keys: rootKeys };
  const intermediate = {
    certificate: await issueCertificate({
      subject: { commonName: 'staplerd Demo Intermediate CA', organization: ORGANIZATION },
      keys: intermediateKeys,
      issuer: root,
      isCA: true,
      ocspUrls: options.ocspUrl ? [options.ocspUrl] : [],
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 1825 * DAY_MS),
    }),
    keys: intermediateKeys,
  };
  const responder = {
    certificate: await issueCertificate({
      subject: { commonName: 'staplerd Demo OCSP Responder', organization: ORGANIZATION },
      keys: responderKeys,
      issuer: intermediate,
      ocspSigning: true,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 365 * DAY_MS),
    }),
    keys: responderKeys,
  };
  return { root, intermediate, responder, ocspUrl: options.ocspUrl, caIssuersUrl: options.caIssuersUrl, issuedAt: new Date(now) };
}

/** Issues a TLS server certificate from the intermediate, with SAN = commonName and EKU serverAuth. */
export async function issueLeaf(authority: DemoAuthority, options: LeafOptions): Promise<IssuedIdentity> {
  const keys = options.keys ?? (await generateKeyPair(authority.intermediate.keys.algorithm));
  const certificate = await issueCertificate({
    subject: { commonName: options.commonName },
    keys,
    issuer: authority.intermediate,
    ocspUrls: options.ocspUrls ?? (authority.ocspUrl ? [authority.ocspUrl] : []),
    caIssuersUrls: options.caIssuersUrls ?? (authority.caIssuersUrl ? [authority.caIssuersUrl] : []),
    mustStaple: options.mustStaple,
    notBefore: options.notBefore ?? new Date(authority.issuedAt.getTime() - HOUR_MS),
    notAfter: options.notAfter ?? new Date(authority.issuedAt.getTime() + 90 * DAY_MS),
    serialHex: options.serialHex,
    ipAddresses: options.ipAddresses,
  });
  return { certificate, keys };
}
