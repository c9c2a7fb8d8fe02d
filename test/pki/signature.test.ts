// Signature checks through node:crypto, the pkijs fallback, and the verified-signature memo in front of both.
import { describe, it, expect, beforeEach } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as asn1js from 'asn1js';
import { isRememberedSignature, verifySignedBytes, type SignedBytes } from '../../src/pki/signature.js';
import { SignatureMemo, signatureMemoKey } from '../../src/pki/verified-signatures.js';

/** The memo a pass would hand down (the tests above it verify without one, as `check` does). */
const signatureMemo = new SignatureMemo();

const OIDS = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  rsaSha256: '1.2.840.113549.1.1.11',
  rsaSha1: '1.2.840.113549.1.1.5',
  md5Rsa: '1.2.840.113549.1.1.4',
};

function algorithm(oid: string, withNull = false): Uint8Array {
  const fields: asn1js.AsnType[] = [new asn1js.ObjectIdentifier({ value: oid })];
  if (withNull) fields.push(new asn1js.Null());
  return new Uint8Array(new asn1js.Sequence({ value: fields }).toBER(false));
}

function spki(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

const data = new TextEncoder().encode('tbsResponseData bytes');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });

const ecSigned: SignedBytes = { data, signature: new Uint8Array(sign('sha256', data, ec.privateKey)), algorithmDer: algorithm(OIDS.ecdsaSha256) };
const rsaSigned: SignedBytes = { data, signature: new Uint8Array(sign('sha256', data, rsa.privateKey)), algorithmDer: algorithm(OIDS.rsaSha256, true) };

beforeEach(() => {
  signatureMemo.clear();
});

describe('verifySignedBytes', () => {
  it('verifies ECDSA and RSA PKCS#1 v1.5 signatures with the right key', async () => {
    await expect(verifySignedBytes(spki(ec.publicKey), ecSigned)).resolves.toBe(true);
    await expect(verifySignedBytes(spki(rsa.publicKey), rsaSigned)).resolves.toBe(true);
    const sha1: SignedBytes = { data, signature: new Uint8Array(sign('sha1', data, rsa.privateKey)), algorithmDer: algorithm(OIDS.rsaSha1, true) };
    await expect(verifySignedBytes(spki(rsa.publicKey), sha1)).resolves.toBe(true);
  });

  it('refuses another key, altered data, an altered signature and a hash other than the one signed', async () => {
    await expect(verifySignedBytes(spki(otherEc.publicKey), ecSigned)).resolves.toBe(false);
    await expect(verifySignedBytes(spki(ec.publicKey), { ...ecSigned, data: new TextEncoder().encode('tbsResponseData bytez') })).resolves.toBe(false);
    const signature = new Uint8Array(ecSigned.signature);
    signature[signature.length - 1] ^= 1;
    await expect(verifySignedBytes(spki(ec.publicKey), { ...ecSigned, signature })).resolves.toBe(false);
    await expect(verifySignedBytes(spki(ec.publicKey), { ...ecSigned, algorithmDer: algorithm(OIDS.ecdsaSha384) })).resolves.toBe(false);
  });

  it('refuses a key of the wrong type for the algorithm', async () => {
    await expect(verifySignedBytes(spki(rsa.publicKey), { ...ecSigned })).resolves.toBe(false);
    await expect(verifySignedBytes(spki(ec.publicKey), { ...rsaSigned })).resolves.toBe(false);
  });

  it('leaves algorithms and curves WebCrypto never supported to pkijs, which refuses them as before', async () => {
    const k1Signed: SignedBytes = { data, signature: new Uint8Array(sign('sha256', data, k1.privateKey)), algorithmDer: algorithm(OIDS.ecdsaSha256) };
    await expect(verifySignedBytes(spki(k1.publicKey), k1Signed)).resolves.toBe(false);
    const md5 = { data, signature: new Uint8Array(256), algorithmDer: algorithm(OIDS.md5Rsa, true) };
    await expect(verifySignedBytes(spki(rsa.publicKey), md5)).resolves.toBe(false);
  });

  it('refuses an EC key given with explicit curve parameters, as pkijs did, and accepts the same key named', async () => {
    // RFC 5480 2.1.1: PKIX keys name their curve. OpenSSL would map these explicit P-256 parameters onto prime256v1.
    const dir = mkdtempSync(path.join(tmpdir(), 'staplerd-explicit-ec-'));
    try {
      const keyFile = path.join(dir, 'key.pem');
      const dataFile = path.join(dir, 'data');
      execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-param_enc', 'explicit', '-genkey', '-noout', '-out', keyFile]);
      writeFileSync(dataFile, data);
      const signature = new Uint8Array(execFileSync('openssl', ['dgst', '-sha256', '-sign', keyFile, dataFile]));
      const explicitSpki = new Uint8Array(execFileSync('openssl', ['ec', '-in', keyFile, '-pubout', '-outform', 'DER', '-param_enc', 'explicit'], { stdio: ['ignore', 'pipe', 'ignore'] }));
      const namedSpki = new Uint8Array(execFileSync('openssl', ['ec', '-in', keyFile, '-pubout', '-outform', 'DER', '-param_enc', 'named_curve'], { stdio: ['ignore', 'pipe', 'ignore'] }));
      const signed: SignedBytes = { data, signature, algorithmDer: algorithm(OIDS.ecdsaSha256) };

      expect(await verifySignedBytes(namedSpki, signed)).toBe(true);
      expect(await verifySignedBytes(explicitSpki, signed)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses garbage instead of throwing', async () => {
    await expect(verifySignedBytes(new Uint8Array([1, 2, 3]), ecSigned)).resolves.toBe(false);
    await expect(verifySignedBytes(spki(ec.publicKey), { ...ecSigned, algorithmDer: new Uint8Array([0x30]) })).resolves.toBe(false);
  });
});

describe('the verified-signature memo', () => {
  it('answers a repeated verification from memory, and only a positive one', async () => {
    const before = signatureMemo.statistics;
    await verifySignedBytes(spki(ec.publicKey), ecSigned, signatureMemo);
    await verifySignedBytes(spki(ec.publicKey), ecSigned, signatureMemo);
    await verifySignedBytes(spki(otherEc.publicKey), ecSigned, signatureMemo);
    await verifySignedBytes(spki(otherEc.publicKey), ecSigned, signatureMemo);
    const after = signatureMemo.statistics;
    expect(after.hits - before.hits).toBe(1);
    expect(after.misses - before.misses).toBe(3);
    expect(signatureMemo.size).toBe(1);
  });

  it('keys on every input: key, algorithm, signature and data', () => {
    const base = signatureMemoKey(spki(ec.publicKey), ecSigned);
    const variants = [
      signatureMemoKey(spki(otherEc.publicKey), ecSigned),
      signatureMemoKey(spki(ec.publicKey), { ...ecSigned, algorithmDer: algorithm(OIDS.ecdsaSha384) }),
      signatureMemoKey(spki(ec.publicKey), { ...ecSigned, signature: ecSigned.signature.subarray(1) }),
      signatureMemoKey(spki(ec.publicKey), { ...ecSigned, data: data.subarray(1) }),
      // The same bytes split differently between fields must not collide.
      signatureMemoKey(spki(ec.publicKey), { data: new Uint8Array([...ecSigned.signature, ...data]), signature: new Uint8Array(), algorithmDer: ecSigned.algorithmDer }),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
    expect(signatureMemoKey(spki(ec.publicKey), { ...ecSigned })).toBe(base);
  });

  it('tells a remembered signature synchronously, counting a hit only, and a new one without counting a miss', async () => {
    const before = signatureMemo.statistics;
    expect(isRememberedSignature(spki(ec.publicKey), ecSigned, signatureMemo)).toBe(false);
    expect(signatureMemo.statistics).toEqual(before);
    await verifySignedBytes(spki(ec.publicKey), ecSigned, signatureMemo);
    expect(isRememberedSignature(spki(ec.publicKey), ecSigned, signatureMemo)).toBe(true);
    expect(isRememberedSignature(spki(otherEc.publicKey), ecSigned, signatureMemo)).toBe(false);
    expect(signatureMemo.statistics).toEqual({ hits: before.hits + 1, misses: before.misses + 1 });
  });

  it('keeps the key saved state files hold: SHA-256 over the domain and each length-prefixed part, at any size', () => {
    const reference = (key: Uint8Array, signed: SignedBytes): string => {
      const hash = createHash('sha256').update('staplerd verified signature v1\0');
      for (const part of [key, signed.algorithmDer, signed.signature, signed.data]) {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(part.length);
        hash.update(length).update(part);
      }
      return hash.digest('base64');
    };
    // A CRL's signed bytes go past the reused buffer: the same key either way, and the short key after it still right.
    const large: SignedBytes = { ...ecSigned, data: new Uint8Array(100_000).fill(9) };
    for (const signed of [ecSigned, rsaSigned, large, ecSigned]) expect(signatureMemoKey(spki(ec.publicKey), signed)).toBe(reference(spki(ec.publicKey), signed));
  });

  it('does not trust a memo entry for a key that did not make it', async () => {
    signatureMemo.add(signatureMemoKey(spki(ec.publicKey), ecSigned));
    await expect(verifySignedBytes(spki(otherEc.publicKey), ecSigned)).resolves.toBe(false);
  });

  it('saves only what was used since the last save, and forgets the rest', () => {
    const memo = new SignatureMemo();
    memo.restoreKeys(['a', 'b', 'c']);
    expect(memo.has('a')).toBe(true);
    memo.add('d');
    expect(memo.takeUsed().map(([key]) => key).sort()).toEqual(['a', 'd']);
    expect(memo.size).toBe(2);
    expect(memo.has('b')).toBe(false);
    expect(memo.has('d')).toBe(true);
    expect(memo.takeUsed().map(([key]) => key)).toEqual(['d']);
    expect(memo.size).toBe(1);
  });
});
