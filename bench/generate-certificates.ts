// Writes N leaf certificates of one bench CA to a temp tree fast: one template certificate is issued with the real
// issuer code, then each leaf is the template's TBS with its serial and name patched in and re-signed (ECDSA, ~50 us).
import { createHash, KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Certificate } from '../src/pki/certificate.js';
import { issueCertificate } from '../src/demo/issue-certificate.js';
import { generateKeyPair, type KeyPair } from '../src/demo/key-pair.js';
import { encodePem } from '../src/pki/pem.js';
import { encodeTlv, readChildren, readTlv, sliceTlv, TAG } from './der.js';
import { encodeOcspGetPath, encodeOcspRequest, type IssuerHashes } from './ocsp-messages.js';
import type { ResponderSetup } from './responder-protocol.js';

export interface BenchAuthority {
  readonly certificate: Certificate;
  readonly keys: KeyPair;
  readonly hashes: IssuerHashes;
  /** First 8 of the 16 serial bytes, shared by every leaf of this run; the last 8 are the leaf index. */
  readonly serialPrefix: Uint8Array;
}

export interface ManifestEntry {
  readonly certFile: string;
  /** `<cert>.ocsp`: where staplerd (and every other sweep here) writes the staple. */
  readonly stapleFile: string;
  readonly serialHex: string;
  /** The RFC 5019 GET path staplerd would request for this certificate. */
  readonly getPath: string;
}

export interface Manifest {
  readonly certsDir: string;
  /** The responder URL every leaf's AIA names. */
  readonly ocspUrl: string;
  readonly caPemFile: string;
  readonly caDerFile: string;
  readonly entries: readonly ManifestEntry[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const SERIAL_BYTES = 16;
/** Files per sub-directory: a large flat directory is not what we want to measure, and certbot-style trees are nested. */
export const FILES_PER_DIRECTORY = 1000;
/** Fixed width so every leaf's TBS has the template's length and the patch never moves a DER length. */
const INDEX_DIGITS = 7;
const TEMPLATE_NAME = `leaf-${'9'.repeat(INDEX_DIGITS)}.bench.test`;

export async function createBenchAuthority(now: Date): Promise<BenchAuthority> {
  const keys = await generateKeyPair('ec-p256');
  const certificate = await issueCertificate({
    subject: { commonName: 'staplerd bench CA', organization: 'staplerd bench' },
    keys,
    isCA: true,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 3650 * DAY_MS),
  });
  const hashes = {
    nameHash: createHash('sha1').update(certificate.subjectNameDer).digest(),
    keyHash: createHash('sha1').update(certificate.publicKeyBits).digest(),
  };
  const serialPrefix = randomBytes(8);
  // Positive and without a leading zero octet (RFC 5280 4.1.2.2), so every serial is exactly 16 content octets.
  serialPrefix[0] = 0x40 | (serialPrefix[0]! & 0x3f);
  return { certificate, keys, hashes, serialPrefix };
}

/** The INTEGER content octets of leaf `index`'s serial. */
export function serialFor(authority: BenchAuthority, index: number): Uint8Array {
  const serial = Buffer.alloc(SERIAL_BYTES);
  serial.set(authority.serialPrefix, 0);
  serial.writeBigUInt64BE(BigInt(index), 8);
  return serial;
}

export function listSerials(authority: BenchAuthority, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, index) => serialFor(authority, index));
}


const HOUR_MS = 60 * 60 * 1000;

/**
 * What the bench responder pre-signs for the first `count` leaves of `authority`, answering `latencyMs` late: answers
 * valid from an hour ago for a week, so staplerd (refreshing at half the window) keeps them fresh for days.
 */
export function buildResponderSetup(authority: BenchAuthority, count: number, latencyMs: number, now: Date): ResponderSetup {
  return {
    issuerKeyPkcs8: KeyObject.from(authority.keys.privateKey).export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    nameHashHex: Buffer.from(authority.hashes.nameHash).toString('hex'),
    keyHashHex: Buffer.from(authority.hashes.keyHash).toString('hex'),
    caDer: Buffer.from(authority.certificate.der).toString('base64'),
    serialsHex: listSerials(authority, count).map((serial) => Buffer.from(serial).toString('hex')),
    producedAtMs: now.getTime() - HOUR_MS,
    thisUpdateMs: now.getTime() - HOUR_MS,
    nextUpdateMs: now.getTime() + 7 * 24 * HOUR_MS,
    latencyMs,
  };
}

/** Issues `count` leaves (shared key, AIA pointing at `ocspUrl`) into `dir/certs/dNNN/leaf-NNNNNNN.pem`, each file
 *  holding the leaf then the CA (fullchain style, so staplerd finds the issuer in the file itself). */
export async function writeLeafCertificates(authority: BenchAuthority, dir: string, count: number, urls: { ocspUrl: string; caIssuersUrl: string }, now: Date): Promise<Manifest> {
  const certsDir = join(dir, 'certs');
  const caPem = authority.certificate.toPem();
  const caPemFile = join(dir, 'ca.pem');
  const caDerFile = join(dir, 'ca.der');
  await mkdir(certsDir, { recursive: true });
  await writeFile(caPemFile, caPem);
  await writeFile(caDerFile, authority.certificate.der);
  const template = await issueTemplate(authority, urls, now);
  const issuerKey = KeyObject.from(authority.keys.privateKey);
  const entries: ManifestEntry[] = [];
  for (let start = 0; start < count; start += FILES_PER_DIRECTORY) {
    const subdir = join(certsDir, `d${String(start / FILES_PER_DIRECTORY).padStart(3, '0')}`);
    await mkdir(subdir, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let index = start; index < Math.min(count, start + FILES_PER_DIRECTORY); index += 1) {
      const serial = serialFor(authority, index);
      const der = signPatchedLeaf(template, issuerKey, serial, index);
      const certFile = join(subdir, `leaf-${formatIndex(index)}.pem`);
      writes.push(writeFile(certFile, encodePem('CERTIFICATE', der) + caPem));
      entries.push({
        certFile,
        stapleFile: `${certFile}.ocsp`,
        serialHex: Buffer.from(serial).toString('hex'),
        getPath: encodeOcspGetPath(encodeOcspRequest(authority.hashes, serial)),
      });
    }
    await Promise.all(writes);
  }
  return { certsDir, ocspUrl: urls.ocspUrl, caPemFile, caDerFile, entries };
}

interface LeafTemplate {
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: Uint8Array;
  readonly serialOffset: number;
  readonly nameOffsets: readonly number[];
}

async function issueTemplate(authority: BenchAuthority, urls: { ocspUrl: string; caIssuersUrl: string }, now: Date): Promise<LeafTemplate> {
  const leafKeys = await generateKeyPair('ec-p256');
  const templateSerial = Buffer.from(serialFor(authority, 0));
  // A serial no leaf uses, so the byte search below cannot confuse it with anything else in the TBS.
  templateSerial.fill(0xee, 8);
  const leaf = await issueCertificate({
    subject: { commonName: TEMPLATE_NAME },
    keys: leafKeys,
    issuer: { certificate: authority.certificate, keys: authority.keys },
    serialHex: templateSerial.toString('hex'),
    ocspUrls: [urls.ocspUrl],
    caIssuersUrls: [urls.caIssuersUrl],
    notBefore: new Date(now.getTime() - 60 * 60 * 1000),
    notAfter: new Date(now.getTime() + 90 * DAY_MS),
  });
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 4.1).
  const [tbsTlv, algorithmTlv] = readChildren(leaf.der, readTlv(leaf.der, 0));
  const tbs = Buffer.from(sliceTlv(leaf.der, tbsTlv!));
  // TBSCertificate ::= SEQUENCE { [0] version, serialNumber, ... } (RFC 5280 4.1.2.2).
  const serialTlv = readChildren(tbs, readTlv(tbs, 0))[1]!;
  if (serialTlv.tag !== TAG.integer || serialTlv.end - serialTlv.contentStart !== SERIAL_BYTES) throw new Error('template serial is not 16 octets');
  return {
    tbs,
    signatureAlgorithm: Buffer.from(sliceTlv(leaf.der, algorithmTlv!)),
    serialOffset: serialTlv.contentStart,
    nameOffsets: findAll(tbs, Buffer.from(TEMPLATE_NAME, 'ascii')),
  };
}

function signPatchedLeaf(template: LeafTemplate, issuerKey: KeyObject, serial: Uint8Array, index: number): Uint8Array {
  const tbs = Buffer.from(template.tbs);
  tbs.set(serial, template.serialOffset);
  const name = Buffer.from(`leaf-${formatIndex(index)}.bench.test`, 'ascii');
  for (const offset of template.nameOffsets) tbs.set(name, offset);
  const signature = sign('sha256', tbs, { key: issuerKey, dsaEncoding: 'der' });
  return encodeTlv(TAG.sequence, tbs, template.signatureAlgorithm, encodeTlv(TAG.bitString, Uint8Array.of(0), signature));
}

function findAll(haystack: Buffer, needle: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) offsets.push(at);
  if (offsets.length === 0) throw new Error('template name not found in the TBS');
  return offsets;
}

function formatIndex(index: number): string {
  return String(index).padStart(INDEX_DIGITS, '0');
}
