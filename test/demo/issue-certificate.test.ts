// Certificates from the throwaway CA must be ones OpenSSL parses and verifies, with the extensions staplerd reads.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { issueCertificate } from '../../src/demo/issue-certificate.js';
import { exportPrivateKeyPem, generateKeyPair } from '../../src/demo/key-pair.js';
import type { Certificate } from '../../src/pki/certificate.js';
import { createTestPki, makeTempDir, removeTempDir, type TestPki } from '../helpers/test-pki.js';

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

let dir: string;
let pki: TestPki;
let caFiles: { rootFile: string; intermediateFile: string };

async function writePem(name: string, certificate: Certificate): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, certificate.toPem());
  return file;
}

function opensslText(file: string): string {
  return openssl(['x509', '-noout', '-text', '-in', file]);
}

beforeAll(async () => {
  dir = await makeTempDir();
  pki = await createTestPki({ ocspUrl: 'http://127.0.0.1:9/ocsp', caIssuersUrl: 'http://127.0.0.1:9/ca.der' });
  caFiles = await pki.writeCaFiles(dir);
});

afterAll(async () => {
  await removeTempDir(dir);
});

describe('issueCertificate', () => {
  it('makes a leaf with AIA, must-staple, serverAuth and SAN that openssl displays', async () => {
    const leaf = await pki.issueLeaf({ commonName: 'shop.example.test', mustStaple: true });
    const text = opensslText(await writePem('must-staple.pem', leaf.certificate));
    expect(text).toContain('OCSP - URI:http://127.0.0.1:9/ocsp');
    expect(text).toContain('CA Issuers - URI:http://127.0.0.1:9/ca.der');
    expect(text).toMatch(/TLS Feature:\s*\n\s*status_request/);
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).toContain('DNS:shop.example.test');
    expect(text).toMatch(/Basic Constraints: critical\s*\n\s*CA:FALSE/);
  });

  it('adds IP address SANs beside the DNS name (a server reached by address, like the tests\' TLS Redis)', async () => {
    const leaf = await pki.issueLeaf({ commonName: 'redis.test', ipAddresses: ['127.0.0.1'] });
    expect(opensslText(await writePem('ip-san.pem', leaf.certificate))).toMatch(/DNS:redis\.test, IP Address:127\.0\.0\.1/);
    await expect(pki.issueLeaf({ commonName: 'x.test', ipAddresses: ['::1'] })).rejects.toThrow(/IPv4/);
  });

  it('makes a leaf that openssl verifies up to the root', async () => {
    const leaf = await pki.issueLeaf();
    const file = await writePem('leaf.pem', leaf.certificate);
    const out = openssl(['verify', '-CAfile', caFiles.rootFile, '-untrusted', caFiles.intermediateFile, file]);
    expect(out.trim()).toBe(`${file}: OK`);
  });

  it('makes a leaf that openssl refuses against another root', async () => {
    const other = await createTestPki();
    const otherRoot = await writePem('other-root.pem', other.authority.root.certificate);
    const file = await writePem('leaf-other.pem', (await pki.issueLeaf()).certificate);
    expect(() => openssl(['verify', '-CAfile', otherRoot, '-untrusted', caFiles.intermediateFile, file])).toThrow();
  });

  it('marks CAs with cA and keyCertSign/cRLSign', () => {
    const text = opensslText(caFiles.intermediateFile);
    expect(text).toMatch(/CA:TRUE/);
    expect(text).toMatch(/Certificate Sign, CRL Sign/);
    expect(pki.authority.intermediate.certificate.summary.isCA).toBe(true);
  });

  it('gives the delegated responder OCSP Signing and OCSP No Check', async () => {
    const text = opensslText(await writePem('responder.pem', pki.authority.responder.certificate));
    expect(text).toContain('OCSP Signing');
    expect(text).toContain('OCSP No Check');
    expect(text).not.toContain('TLS Web Server Authentication');
  });

  it('reports what it issued through the certificate summary', async () => {
    const notBefore = new Date('2030-01-01T00:00:00Z');
    const notAfter = new Date('2055-06-01T12:34:56Z'); // past 2049: GeneralizedTime (RFC 5280 4.1.2.5)
    const keys = await generateKeyPair();
    const certificate = await issueCertificate({
      subject: { commonName: 'summary.example.test', organization: 'Example' },
      keys,
      issuer: pki.authority.intermediate,
      serialHex: '00C0FFEE',
      notBefore,
      notAfter,
      ocspUrls: ['http://a.example/', 'http://b.example/'],
      mustStaple: true,
    });
    expect(certificate.summary).toMatchObject({
      serialHex: 'c0ffee',
      notBefore,
      notAfter,
      isCA: false,
      mustStaple: true,
      ocspUrls: ['http://a.example/', 'http://b.example/'],
      caIssuersUrls: [],
    });
    expect(certificate.summary.subject).toContain('CN=summary.example.test');
    const text = opensslText(await writePem('summary.pem', certificate));
    expect(text).toContain('Serial Number: 12648430 (0xc0ffee)');
    // One attribute per RDN: "O = Example + CN = ..." would be a multi-valued RDN.
    expect(text).toContain('Subject: O = Example, CN = summary.example.test');
    expect(text).toContain('Not After : Jun  1 12:34:56 2055 GMT');
  });

  it('is recognised as issued by its issuer and not by the root', async () => {
    const leaf = await pki.issueLeaf();
    await expect(leaf.certificate.isIssuedBy(pki.authority.intermediate.certificate)).resolves.toBe(true);
    await expect(leaf.certificate.isIssuedBy(pki.authority.root.certificate)).resolves.toBe(false);
  });

  it('draws different random serials', async () => {
    const [a, b] = await Promise.all([pki.issueLeaf(), pki.issueLeaf()]);
    expect(a.certificate.summary.serialHex).not.toBe(b.certificate.summary.serialHex);
    expect(a.certificate.summary.serialHex).toMatch(/^[0-9a-f]{30,32}$/);
  });

  it('rejects a serial that is not hexadecimal', async () => {
    await expect(issueCertificate({ subject: { commonName: 'x' }, keys: await generateKeyPair(), serialHex: 'xyz' })).rejects.toThrow(/hexadecimal/);
  });

  it('works with RSA keys end to end', async () => {
    const rsa = await createTestPki({ algorithm: 'rsa-2048' });
    const rsaDir = await makeTempDir();
    try {
      const files = await rsa.writeCaFiles(rsaDir);
      const leaf = await rsa.issueLeaf();
      const written = await rsa.writeLeaf(rsaDir, leaf, 'leaf');
      const text = opensslText(written.certFile);
      expect(text).toContain('sha256WithRSAEncryption');
      expect(text).toContain('Digital Signature, Key Encipherment');
      const out = openssl(['verify', '-CAfile', files.rootFile, '-untrusted', files.intermediateFile, written.certFile]);
      expect(out.trim()).toBe(`${written.certFile}: OK`);
    } finally {
      await removeTempDir(rsaDir);
    }
  }, 60_000);
});

describe('exportPrivateKeyPem', () => {
  it.each(['ec-p256', 'rsa-2048'] as const)('exports a %s key that matches the certificate for openssl', async (algorithm) => {
    const keys = await generateKeyPair(algorithm);
    const leaf = await pki.issueLeaf({ keys });
    const keyFile = path.join(dir, `${algorithm}.key`);
    const pem = await exportPrivateKeyPem(keys);
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    await writeFile(keyFile, pem, { mode: 0o600 });
    const certFile = await writePem(`${algorithm}.pem`, leaf.certificate);
    const fromKey = openssl(['pkey', '-in', keyFile, '-pubout']);
    const fromCert = openssl(['x509', '-in', certFile, '-noout', '-pubkey']);
    expect(fromKey).toBe(fromCert);
  }, 60_000);
});

describe('test PKI file layouts', () => {
  it('writes the certbot layout with the leaf first in fullchain.pem', async () => {
    const leaf = await pki.issueLeaf();
    const written = await pki.writeLeaf(dir, leaf, 'certbot', 'shop');
    expect(written.files.map((file) => path.basename(file))).toEqual(['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem']);
    expect(path.basename(written.certFile)).toBe('fullchain.pem');
    const subject = openssl(['x509', '-noout', '-subject', '-in', written.certFile]);
    expect(subject).toContain('CN = example.test');
  });

  it('writes the HAProxy combined file with key, leaf and chain', async () => {
    const leaf = await pki.issueLeaf();
    const written = await pki.writeLeaf(dir, leaf, 'haproxy', 'combined');
    const text = await readFile(written.certFile, 'utf8');
    expect(text.match(/-----BEGIN ([A-Z ]+)-----/g)).toEqual([
      '-----BEGIN PRIVATE KEY-----',
      '-----BEGIN CERTIFICATE-----',
      '-----BEGIN CERTIFICATE-----',
    ]);
  });
});
