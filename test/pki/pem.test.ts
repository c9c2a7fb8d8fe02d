// Behaviour of readCertificateFile and encodePem on the files servers really hold.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StaplerdError } from '../../src/errors/index.js';
import { encodePem, readCertificateFile } from '../../src/pki/pem.js';

let dir: string;
let leafPem: string;
let caPem: string;
let keyPem: string;
let dhPem: string;

function der(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'staplerd-pem-'));
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=PEM Test CA', '-days', '2');
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.pem',
    '-subj', '/CN=leaf.test', '-days', '2', '-CA', 'ca.pem', '-CAkey', 'ca.key');
  run('genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048', '-out', 'dh.pem');
  const read = (name: string): string => readFileSync(path.join(dir, name), 'latin1');
  [leafPem, caPem, keyPem, dhPem] = [read('leaf.pem'), read('ca.pem'), read('leaf.key'), read('dh.pem')];
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('readCertificateFile', () => {
  it('reads an HAProxy combined file: key, leaf, chain and DH parameters in any order', () => {
    const combined = `${keyPem}${leafPem}${caPem}${dhPem}`;
    const contents = readCertificateFile(bytes(combined), 'site.pem');
    expect(contents.certificates.map((cert) => Buffer.from(cert))).toEqual([der(leafPem), der(caPem)]);
    expect(contents.hasPrivateKey).toBe(true);
    expect(contents.otherLabels).toEqual(['DH PARAMETERS']);
  });

  it('keeps certificate order when the key comes last', () => {
    const contents = readCertificateFile(bytes(`${caPem}\n${leafPem}\n${keyPem}`));
    expect(contents.certificates.map((cert) => Buffer.from(cert))).toEqual([der(caPem), der(leafPem)]);
    expect(contents.hasPrivateKey).toBe(true);
  });

  it('never decodes private key blocks, so even a corrupt one is skipped', () => {
    const corruptKey = '-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n!!! not base64 at all ***\n-----END EC PRIVATE KEY-----\n';
    const contents = readCertificateFile(bytes(`${corruptKey}${leafPem}`));
    expect(contents.hasPrivateKey).toBe(true);
    expect(contents.certificates).toHaveLength(1);
  });

  it('accepts CRLF line endings and text around the blocks', () => {
    const withNoise = `subject=CN = leaf.test\r\n${leafPem.replace(/\n/g, '\r\n')}trailing comment\r\n`;
    expect(readCertificateFile(bytes(withNoise)).certificates.map((cert) => Buffer.from(cert))).toEqual([der(leafPem)]);
  });

  it('reads a single DER certificate', () => {
    const contents = readCertificateFile(new Uint8Array(der(leafPem)), 'leaf.der');
    expect(contents).toEqual({ certificates: [new Uint8Array(der(leafPem))], hasPrivateKey: false, otherLabels: [] });
  });

  it('returns no certificates for a key-only file', () => {
    expect(readCertificateFile(bytes(keyPem))).toEqual({ certificates: [], hasPrivateKey: true, otherLabels: [] });
  });

  it('rejects a certificate block with corrupt base64, naming the file', () => {
    const corrupt = leafPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!');
    expect(() => readCertificateFile(bytes(corrupt), '/etc/ssl/site.pem')).toThrow(
      expect.objectContaining({ code: 'CERT_PARSE_FAILED', file: '/etc/ssl/site.pem' }),
    );
  });

  it('rejects a certificate block whose DER was truncated', () => {
    const body = der(leafPem);
    const truncated = encodePem('CERTIFICATE', new Uint8Array(body.subarray(0, body.length - 30)));
    expect(() => readCertificateFile(bytes(truncated))).toThrow(StaplerdError);
  });

  it('rejects a block without its END line', () => {
    const cut = leafPem.slice(0, leafPem.indexOf('-----END'));
    expect(() => readCertificateFile(bytes(cut))).toThrow(expect.objectContaining({ code: 'CERT_PARSE_FAILED' }));
  });

  it('rejects garbage that is neither PEM nor DER', () => {
    expect(() => readCertificateFile(bytes('this is not a certificate\n'), 'notes.txt')).toThrow(
      expect.objectContaining({ code: 'CERT_PARSE_FAILED', file: 'notes.txt' }),
    );
  });

  it('rejects DER with trailing bytes', () => {
    const padded = new Uint8Array([...der(leafPem), 0x00, 0x00]);
    expect(() => readCertificateFile(padded)).toThrow(expect.objectContaining({ code: 'CERT_PARSE_FAILED' }));
  });
});

describe('encodePem', () => {
  it('writes 64-character base64 lines that openssl reads back', () => {
    const pem = encodePem('CERTIFICATE', new Uint8Array(der(leafPem)));
    expect(pem.split('\n').slice(1, -3).every((line) => line.length === 64)).toBe(true);
    const decoded = execFileSync('openssl', ['x509', '-outform', 'DER'], { input: pem });
    expect(decoded.equals(der(leafPem))).toBe(true);
  });

  it('round-trips through readCertificateFile', () => {
    const original = new Uint8Array(der(caPem));
    expect(readCertificateFile(bytes(encodePem('CERTIFICATE', original))).certificates).toEqual([original]);
  });
});
