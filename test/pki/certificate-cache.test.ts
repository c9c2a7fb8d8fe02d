// One certificate cache for discovery passes and the Node TLS handler: shared parses, bad DER reported once, a bound.
import { describe, it, expect, beforeAll } from '@jest/globals';
import { CertificateCache } from '../../src/pki/certificate-cache.js';
import type { StaplerdError } from '../../src/errors/index.js';
import type { CertificateBlock } from '../../src/pki/pem.js';
import { createTestPki, type TestPki } from '../helpers/test-pki.js';

let pki: TestPki;

beforeAll(async () => {
  pki = await createTestPki();
});

describe('CertificateCache.parseShared', () => {
  it('gives the same certificate for the same bytes, parsed from a copy the caller cannot change', async () => {
    const cache = new CertificateCache();
    const der = new Uint8Array(pki.authority.intermediate.certificate.der);
    const first = cache.parseShared(der, () => undefined);
    expect(cache.parseShared(new Uint8Array(der), () => undefined)).toBe(first);
    der.fill(0);
    expect(first?.summary.fingerprintSha256).toBe(pki.authority.intermediate.certificate.summary.fingerprintSha256);
  });

  it('reports a DER that is no certificate once, however often it is presented', () => {
    const cache = new CertificateCache();
    const errors: StaplerdError[] = [];
    const junk = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
    for (let handshake = 0; handshake < 3; handshake += 1) expect(cache.parseShared(junk, (error) => errors.push(error))).toBeUndefined();
    expect(errors.map((error) => error.code)).toEqual(['CERT_PARSE_FAILED']);
  });

  it('forgets the least recently used certificate past maxEntries', async () => {
    const cache = new CertificateCache({ maxEntries: 1 });
    const leaf = (await pki.issueLeaf({ commonName: 'bound.test' })).certificate.der;
    const intermediate = pki.authority.intermediate.certificate.der;
    const first = cache.parseShared(leaf, () => undefined);
    cache.parseShared(intermediate, () => undefined);
    const again = cache.parseShared(leaf, () => undefined);
    expect(again).not.toBe(first);
    expect(again?.summary.fingerprintSha256).toBe(first?.summary.fingerprintSha256);
  });
});

describe('CertificateCache.parseOwned', () => {
  it('shares one certificate between files holding the same bytes and names the file when the bytes are none', () => {
    const cache = new CertificateCache();
    const der = pki.authority.intermediate.certificate.der;
    expect(cache.parseOwned(new Uint8Array(der), 'a.pem')).toBe(cache.parseOwned(new Uint8Array(der), 'b.pem'));
    expect(() => cache.parseOwned(new Uint8Array([0x30, 0x00]), 'bad.pem')).toThrow(expect.objectContaining({ code: 'CERT_PARSE_FAILED', file: 'bad.pem' }));
  });
});

describe('CertificateCache.parseBlock', () => {
  /** A PEM block as listCertificateBlocks gives it, counting its decodes. */
  function blockOf(pemBody: string, der: Uint8Array): CertificateBlock & { decodes: number } {
    const block = { pemBody, decodes: 0, decode: () => (block.decodes += 1, new Uint8Array(der)) };
    return block;
  }

  it('parses a CA text once for every file that carries it, and each leaf text for itself, whatever their lengths', async () => {
    const cache = new CertificateCache();
    const ca = pki.authority.intermediate.certificate;
    const caText = ca.toPem();
    const first = blockOf(caText, ca.der);
    const again = blockOf(caText.slice(0), ca.der);
    const parsed = cache.parseBlock(first, 'a.pem');
    expect(cache.parseBlock(again, 'b.pem')).toBe(parsed);
    expect([first.decodes, again.decodes]).toEqual([1, 0]);
    // A leaf whose text has the CA text's very length is still looked at as itself, never taken for the CA.
    const leaf = (await pki.issueLeaf({ commonName: 'same-length.test' })).certificate;
    const leafBlock = blockOf('x'.repeat(caText.length), leaf.der);
    expect(cache.parseBlock(leafBlock, 'c.pem').summary.fingerprintSha256).toBe(leaf.summary.fingerprintSha256);
    expect(leafBlock.decodes).toBe(1);
  });
});
