// Behaviour of buildOcspRequest: byte-identical to Go's x/crypto/ocsp request, nonce per RFC 8954, readable by openssl.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Certificate } from '../../src/pki/certificate.js';
import { buildOcspRequest } from '../../src/pki/ocsp-request.js';
import { isConformanceCorpusPresent, readCorpusFile } from '../helpers/conformance-corpus.js';

const corpusIt = isConformanceCorpusPresent() ? it : it.skip;

let dir: string;
let leaf: Certificate;
let issuer: Certificate;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'staplerd-ocsp-request-'));
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.der',
    '-outform', 'DER', '-subj', '/CN=Request Test CA', '-days', '2');
  run('x509', '-inform', 'DER', '-in', 'ca.der', '-out', 'ca.pem');
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.der',
    '-outform', 'DER', '-subj', '/CN=leaf.test', '-days', '2', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0x0080ff');
  issuer = Certificate.fromDer(readFileSync(path.join(dir, 'ca.der')));
  leaf = Certificate.fromDer(readFileSync(path.join(dir, 'leaf.der')));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `openssl ocsp -req_text` on a request: how a real responder stack reads it. */
function describeWithOpenssl(der: Uint8Array): string {
  writeFileSync(path.join(dir, 'request.der'), der);
  return execFileSync('openssl', ['ocsp', '-reqin', 'request.der', '-req_text'], { cwd: dir, encoding: 'utf8' });
}

describe('buildOcspRequest', () => {
  corpusIt("matches Go x/crypto/ocsp's SHA-1 request without nonce byte for byte", async () => {
    const cert = Certificate.fromDer(readCorpusFile('go-xcrypto-ocsp/leafCert.der'));
    const goIssuer = Certificate.fromDer(readCorpusFile('go-xcrypto-ocsp/issuerCert.der'));
    const built = await buildOcspRequest(cert, goIssuer);
    expect(Buffer.from(built.der).toString('hex')).toBe(Buffer.from(readCorpusFile('go-xcrypto-ocsp/ocspRequest.der')).toString('hex'));
    expect(built.nonce).toBeUndefined();
  });

  it('names the serial as encoded and the SHA-1 issuer hashes openssl computes', async () => {
    const built = await buildOcspRequest(leaf, issuer);
    const text = describeWithOpenssl(built.der);
    writeFileSync(path.join(dir, 'leaf.pem'), leaf.toPem());
    execFileSync('openssl', ['ocsp', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'openssl-request.der'], { cwd: dir });
    const reference = execFileSync('openssl', ['ocsp', '-reqin', 'openssl-request.der', '-req_text'], { cwd: dir, encoding: 'utf8' });
    expect(text).toContain('Serial Number: 80FF');
    expect(text).toBe(reference);
  });

  it('adds a 32-octet nonce from the injected random source when asked', async () => {
    const requested: number[] = [];
    const randomBytes = (n: number): Uint8Array => {
      requested.push(n);
      return new Uint8Array(n).fill(0xab);
    };
    const built = await buildOcspRequest(leaf, issuer, { nonce: true, randomBytes });
    expect(requested).toEqual([32]);
    expect(built.nonce).toEqual(new Uint8Array(32).fill(0xab));
    // RFC 8954: extnValue is the DER of an OCTET STRING holding the nonce (04 20 ab...).
    expect(describeWithOpenssl(built.der)).toMatch(/OCSP Nonce:\s+0420(AB){32}/);
  });

  it('sends no extensions without the nonce option', async () => {
    const built = await buildOcspRequest(leaf, issuer, { randomBytes: () => { throw new Error('randomness must not be used'); } });
    expect(describeWithOpenssl(built.der)).not.toContain('Request Extensions');
  });
});
