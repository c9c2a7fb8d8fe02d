// Behaviour of Certificate (summary, issuer check) and parseCertificateBundle on corpus and openssl-made certificates.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StaplerdError } from '../../src/errors/index.js';
import { Certificate } from '../../src/pki/certificate.js';
import { parseCertificateBundle } from '../../src/pki/certificate-bundle.js';
import { readCertificateFile } from '../../src/pki/pem.js';
import { createValidationMemos } from '../../src/pki/validation-memos.js';
import { isConformanceCorpusPresent, readCorpusFile } from '../helpers/conformance-corpus.js';

const corpusDescribe = isConformanceCorpusPresent() ? describe : describe.skip;

let dir: string;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function readFile(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(dir, name)));
}

function fromPemFile(name: string): Certificate {
  return Certificate.fromDer(readCertificateFile(readFile(name), name).certificates[0]!, name);
}

function fromCorpus(relativePath: string): Certificate {
  return Certificate.fromDer(readCertificateFile(readCorpusFile(relativePath), relativePath).certificates[0]!, relativePath);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'staplerd-certificate-'));
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
    '-subj', '/C=NL/O=Staplerd, Test/CN=Cert Test CA', '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE');
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=must-staple.test');
  writeFileSync(path.join(dir, 'ext.cnf'), [
    '[leaf]',
    'basicConstraints=CA:FALSE',
    'tlsfeature=status_request',
    'authorityInfoAccess=OCSP;URI:http://127.0.0.1:1/ocsp-a,caIssuers;URI:http://127.0.0.1:1/ca.der,OCSP;URI:http://127.0.0.1:1/ocsp-b',
    '[plain]',
    'basicConstraints=CA:FALSE',
    '',
  ].join('\n'));
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0x00c0ffee', '-days', '10',
    '-extfile', 'ext.cnf', '-extensions', 'leaf', '-out', 'leaf.pem');
  // A look-alike CA (same name, other key) and a certificate with no AIA at all.
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'twin.key', '-out', 'twin.pem',
    '-subj', '/C=NL/O=Staplerd, Test/CN=Cert Test CA', '-days', '30');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0', '-days', '10',
    '-extfile', 'ext.cnf', '-extensions', 'plain', '-out', 'plain.pem');
  openssl('x509', '-in', 'leaf.pem', '-outform', 'DER', '-out', 'leaf.der');
  openssl('crl2pkcs7', '-nocrl', '-certfile', 'leaf.pem', '-certfile', 'ca.pem', '-outform', 'DER', '-out', 'chain.p7b');
  openssl('crl2pkcs7', '-nocrl', '-certfile', 'leaf.pem', '-certfile', 'ca.pem', '-out', 'chain.p7c.pem');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Certificate summary of an openssl-made certificate', () => {
  it('reports the serial without leading zero octets, the must-staple feature and AIA URLs in order', () => {
    const summary = fromPemFile('leaf.pem').summary;
    expect(summary).toMatchObject({
      serialHex: 'c0ffee',
      subject: 'CN=must-staple.test',
      issuer: 'CN=Cert Test CA, O=Staplerd\\, Test, C=NL',
      isCA: false,
      mustStaple: true,
      ocspUrls: ['http://127.0.0.1:1/ocsp-a', 'http://127.0.0.1:1/ocsp-b'],
      caIssuersUrls: ['http://127.0.0.1:1/ca.der'],
    });
  });

  it('reports validity dates and the SHA-256 fingerprint openssl prints', () => {
    const certificate = fromPemFile('leaf.pem');
    const text = execFileSync('openssl', ['x509', '-in', 'leaf.pem', '-noout', '-fingerprint', '-sha256', '-startdate', '-enddate'], { cwd: dir, encoding: 'utf8' });
    const fingerprint = /Fingerprint=([0-9A-F:]+)/.exec(text)![1]!.replace(/:/g, '').toLowerCase();
    expect(certificate.summary.fingerprintSha256).toBe(fingerprint);
    expect(certificate.summary.notBefore).toEqual(new Date(/notBefore=(.+)/.exec(text)![1]!));
    expect(certificate.summary.notAfter).toEqual(new Date(/notAfter=(.+)/.exec(text)![1]!));
  });

  it('reports a CA, and no OCSP URL and no must-staple when the extensions are absent', () => {
    expect(fromPemFile('ca.pem').summary.isCA).toBe(true);
    expect(fromPemFile('plain.pem').summary).toMatchObject({ serialHex: '00', ocspUrls: [], caIssuersUrls: [], mustStaple: false, isCA: false });
  });

  it('round-trips through toPem', () => {
    const certificate = fromPemFile('leaf.pem');
    expect(Buffer.from(Certificate.fromDer(readCertificateFile(new TextEncoder().encode(certificate.toPem())).certificates[0]!).der))
      .toEqual(Buffer.from(certificate.der));
  });
});

describe('Certificate.isIssuedBy', () => {
  it('accepts the CA that signed the certificate', async () => {
    await expect(fromPemFile('leaf.pem').isIssuedBy(fromPemFile('ca.pem'))).resolves.toBe(true);
  });

  it('rejects a CA with the same name but another key', async () => {
    await expect(fromPemFile('leaf.pem').isIssuedBy(fromPemFile('twin.pem'))).resolves.toBe(false);
  });

  it('rejects a certificate whose subject is not the issuer name', async () => {
    await expect(fromPemFile('ca.pem').isIssuedBy(fromPemFile('leaf.pem'))).resolves.toBe(false);
  });
});

describe('Certificate.isRememberedIssuedBy', () => {
  it('says yes only for an issuer whose signature the memos remember, never for a same-named twin', async () => {
    const memos = createValidationMemos();
    const [leaf, ca, twin] = [fromPemFile('leaf.pem'), fromPemFile('ca.pem'), fromPemFile('twin.pem')];
    expect(leaf.isRememberedIssuedBy(ca, memos)).toBe(false);
    await expect(leaf.isIssuedBy(ca, memos)).resolves.toBe(true);
    await expect(leaf.isIssuedBy(twin, memos)).resolves.toBe(false);
    expect(leaf.isRememberedIssuedBy(ca, memos)).toBe(true);
    expect(leaf.isRememberedIssuedBy(twin, memos)).toBe(false);
  });
});

describe('Certificate.nameHash and keyHash (CertID issuer hashes, RFC 6960 4.1.1)', () => {
  it('hash the subject Name and the key bits with the algorithm asked for, the same bytes on every call', () => {
    const ca = fromPemFile('ca.pem');
    const digest = (algorithm: string, data: Uint8Array): Uint8Array => new Uint8Array(createHash(algorithm).update(data).digest());
    for (const [oid, algorithm] of [['1.3.14.3.2.26', 'sha1'], ['2.16.840.1.101.3.4.2.1', 'sha256']] as const) {
      expect(ca.nameHash(oid)).toEqual(digest(algorithm, ca.subjectNameDer));
      expect(ca.keyHash(oid)).toEqual(digest(algorithm, ca.publicKeyBits));
      expect(ca.nameHash(oid)).toBe(ca.nameHash(oid));
    }
  });
});

describe('Certificate.fromDer', () => {
  it('rejects bytes that are not a certificate with CERT_PARSE_FAILED naming the file', () => {
    expect(() => Certificate.fromDer(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), 'bad.der')).toThrow(
      expect.objectContaining({ code: 'CERT_PARSE_FAILED', file: 'bad.der' }),
    );
  });

  it('rejects a certificate followed by trailing bytes', () => {
    expect(() => Certificate.fromDer(new Uint8Array([...readFile('leaf.der'), 0x00]))).toThrow(StaplerdError);
  });
});

corpusDescribe('Certificate summary of corpus certificates', () => {
  it('reads serial, subject and AIA of a Comodo EV end-entity certificate', () => {
    const summary = fromCorpus('openssl-ocsp-tests/certs/ND1_Cert_EE.pem').summary;
    expect(summary).toMatchObject({
      serialHex: '22e1332220a048df29b2bf9a31c29b07',
      isCA: false,
      mustStaple: false,
      ocspUrls: ['http://ocsp.comodoca.com'],
      caIssuersUrls: ['http://crt.comodoca.com/COMODOExtendedValidationSecureServerCA.crt'],
      fingerprintSha256: '809d711084b5d69b3e48745d1fa31cbc8fa72fe65b6fcd9eb16cfc657914c99e',
    });
    expect(summary.subject).toMatch(/^CN=secure\.comodo\.com, OU=Comodo EV SGC SSL, O=COMODO CA Limited, street=3rd Floor\\, 26 Office Village, /);
    expect(summary.issuer).toBe('CN=COMODO Extended Validation Secure Server CA, O=COMODO CA Limited, L=Salford, ST=Greater Manchester, C=GB');
  });

  it('reads a GlobalSign intermediate CA with its validity and OCSP URL', () => {
    const summary = fromCorpus('openssl-ocsp-tests/certs/D1_Issuer_ICA.pem').summary;
    expect(summary).toMatchObject({
      serialHex: '0400000000012f4ee15dd4',
      subject: 'CN=GlobalSign Extended Validation CA - G2, O=GlobalSign nv-sa, C=BE',
      isCA: true,
      ocspUrls: ['http://ocsp.globalsign.com/ExtendedSSLCA'],
      notBefore: new Date('2011-04-13T10:00:00Z'),
      notAfter: new Date('2022-04-13T10:00:00Z'),
    });
  });

  it('reads the DER leaf of the Go vectors and checks it against its issuer', async () => {
    const leaf = Certificate.fromDer(readCorpusFile('go-xcrypto-ocsp/leafCert.der'), 'leafCert.der');
    const issuer = Certificate.fromDer(readCorpusFile('go-xcrypto-ocsp/issuerCert.der'), 'issuerCert.der');
    expect(leaf.summary).toMatchObject({ serialHex: '017f77deb3bcbb235d44ccc7dba62e72', ocspUrls: ['http://ocsp.verisign.com'], isCA: false });
    expect(issuer.summary.isCA).toBe(true);
    await expect(leaf.isIssuedBy(issuer)).resolves.toBe(true);
  });

  it('verifies the SHA-1 RSA signature of an end-entity certificate by its intermediate', async () => {
    const leaf = fromCorpus('openssl-ocsp-tests/certs/ND1_Cert_EE.pem');
    await expect(leaf.isIssuedBy(fromCorpus('openssl-ocsp-tests/certs/ND1_Issuer_ICA.pem'))).resolves.toBe(true);
    await expect(leaf.isIssuedBy(fromCorpus('openssl-ocsp-tests/certs/WKIC_ND1_Issuer_ICA.pem'))).resolves.toBe(false);
  });
});

describe('parseCertificateBundle', () => {
  const fingerprints = (certificates: Certificate[]): string[] => certificates.map((cert) => cert.summary.fingerprintSha256);

  it('reads a single DER certificate', () => {
    expect(fingerprints(parseCertificateBundle(readFile('leaf.der'), 'http://127.0.0.1/leaf.der'))).toEqual(fingerprints([fromPemFile('leaf.pem')]));
  });

  it('reads PEM text with several certificates', () => {
    const pem = new TextEncoder().encode(fromPemFile('leaf.pem').toPem() + fromPemFile('ca.pem').toPem());
    expect(fingerprints(parseCertificateBundle(pem, 'chain.pem'))).toEqual(fingerprints([fromPemFile('leaf.pem'), fromPemFile('ca.pem')]));
  });

  it('reads a DER PKCS#7 certs-only bundle', () => {
    expect(parseCertificateBundle(readFile('chain.p7b'), 'http://127.0.0.1/chain.p7b').map((cert) => cert.summary.subject).sort())
      .toEqual(['CN=Cert Test CA, O=Staplerd\\, Test, C=NL', 'CN=must-staple.test']);
  });

  it('reads a PEM "PKCS7" bundle', () => {
    expect(parseCertificateBundle(readFile('chain.p7c.pem'), 'chain.p7c')).toHaveLength(2);
  });

  it('rejects an HTML error page with CERT_PARSE_FAILED naming the URL', () => {
    const page = new TextEncoder().encode('<html><body>404 Not Found</body></html>');
    expect(() => parseCertificateBundle(page, 'http://127.0.0.1/ca.der')).toThrow(
      expect.objectContaining({ code: 'CERT_PARSE_FAILED', url: 'http://127.0.0.1/ca.der' }),
    );
  });

  it('rejects a PKCS#7 bundle without certificates', () => {
    openssl('crl2pkcs7', '-nocrl', '-outform', 'DER', '-out', 'empty.p7b');
    expect(() => parseCertificateBundle(readFile('empty.p7b'), 'empty.p7b')).toThrow(expect.objectContaining({ code: 'CERT_PARSE_FAILED' }));
  });
});
