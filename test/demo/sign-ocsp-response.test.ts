// Responses from the test signer must satisfy OpenSSL's OCSP client and staplerd's own validator alike.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildOcspRequest } from '../../src/pki/ocsp-request.js';
import { validateOcspResponse } from '../../src/pki/ocsp-response.js';
import { generateKeyPair } from '../../src/demo/key-pair.js';
import { encodeOcspErrorResponse, parseOcspRequest, signOcspResponse, type SignOptions } from '../../src/demo/sign-ocsp-response.js';
import type { IssuedIdentity } from '../../src/demo/demo-pki.js';
import { createTestPki, makeTempDir, removeTempDir, type TestPki } from '../helpers/test-pki.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

let dir: string;
let pki: TestPki;
let leaf: IssuedIdentity;
let files: { rootFile: string; intermediateFile: string; leafFile: string };
let fileCounter = 0;

interface OpensslResult {
  status: number | null;
  output: string;
}

function openssl(args: string[]): OpensslResult {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

async function writeTemp(bytes: Uint8Array): Promise<string> {
  fileCounter += 1;
  const file = path.join(dir, `blob-${fileCounter}.der`);
  await writeFile(file, bytes);
  return file;
}

/** `openssl ocsp` checking a stored response offline, trusting only the root. */
async function opensslCheck(response: Uint8Array, extra: string[] = []): Promise<OpensslResult> {
  const respin = await writeTemp(response);
  return openssl([
    'ocsp', '-respin', respin, '-issuer', files.intermediateFile, '-cert', files.leafFile,
    '-CAfile', files.rootFile, '-verify_other', files.intermediateFile, '-resp_text', ...extra,
  ]);
}

function answerNow(overrides: Partial<SignOptions['answers'][number]> = {}): SignOptions['answers'][number] {
  const now = Date.now();
  return {
    certId: { cert: leaf.certificate, issuer: pki.authority.intermediate.certificate },
    status: 'good',
    thisUpdate: new Date(now - MINUTE_MS),
    nextUpdate: new Date(now + HOUR_MS),
    ...overrides,
  };
}

beforeAll(async () => {
  dir = await makeTempDir();
  pki = await createTestPki({ ocspUrl: 'http://127.0.0.1:9/' });
  leaf = await pki.issueLeaf();
  const ca = await pki.writeCaFiles(dir);
  files = { ...ca, leafFile: (await pki.writeLeaf(dir, leaf, 'leaf')).certFile };
});

afterAll(async () => {
  await removeTempDir(dir);
});

describe('signOcspResponse, checked by openssl ocsp', () => {
  it('is accepted when signed by the delegated responder, which it embeds', async () => {
    const der = await signOcspResponse({ signer: pki.authority.responder, producedAt: new Date(), answers: [answerNow()] });
    const result = await opensslCheck(der);
    expect(result.output).toContain('Response verify OK');
    expect(result.output).toContain(`${files.leafFile}: good`);
    expect(result.output).toContain('Subject: O=staplerd demo, CN=staplerd Demo OCSP Responder');
    expect(result.status).toBe(0);
  });

  it('is accepted when signed by the issuer itself, with no certificates embedded', async () => {
    const der = await signOcspResponse({ signer: pki.authority.intermediate, producedAt: new Date(), answers: [answerNow()] });
    const result = await opensslCheck(der);
    expect(result.output).toContain('Response verify OK');
    expect(result.output).not.toContain('Certificate:');
  });

  it('is rejected when signed by a key that does not match the responder certificate', async () => {
    const signer = { certificate: pki.authority.responder.certificate, keys: await generateKeyPair() };
    const der = await signOcspResponse({ signer, producedAt: new Date(), answers: [answerNow()] });
    const result = await opensslCheck(der);
    expect(result.output).not.toContain('Response verify OK');
    expect(result.output).toMatch(/Response Verify Failure/i);
  });

  it('encodes revocation time and reason', async () => {
    const revocationTime = new Date('2024-03-04T05:06:07.890Z');
    const answer = answerNow({ status: 'revoked', revocationTime, revocationReason: 1 });
    const result = await opensslCheck(await signOcspResponse({ signer: pki.authority.responder, producedAt: new Date(), answers: [answer] }));
    expect(result.output).toContain(`${files.leafFile}: revoked`);
    expect(result.output).toContain('Reason: keyCompromise');
    expect(result.output).toContain('Revocation Time: Mar  4 05:06:07 2024 GMT');
  });

  it('encodes unknown, a missing nextUpdate, responderID byName, the nonce and SHA-1 signatures', async () => {
    const der = await signOcspResponse({
      signer: pki.authority.responder,
      responderIdBy: 'name',
      producedAt: new Date(),
      answers: [answerNow({ status: 'unknown', nextUpdate: null })],
      nonce: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
      signatureHash: 'SHA-1',
    });
    // -no_nonce: otherwise openssl compares with the nonce of the request it builds from -cert/-issuer.
    const result = await opensslCheck(der, ['-no_nonce']);
    expect(result.output).toContain('Response verify OK');
    expect(result.output).toContain(`${files.leafFile}: unknown`);
    expect(result.output).not.toContain('Next Update');
    expect(result.output).toContain('Responder Id: O = staplerd demo, CN = staplerd Demo OCSP Responder');
    expect(result.output).toMatch(/OCSP Nonce:\s*\n\s*0404DEADBEEF/);
    expect(result.output).toContain('Signature Algorithm: ecdsa-with-SHA1');
  });

  it('signs with RSA keys too', async () => {
    const rsa = await createTestPki({ algorithm: 'rsa-2048' });
    const rsaLeaf = await rsa.issueLeaf();
    const rsaDir = await makeTempDir();
    try {
      const ca = await rsa.writeCaFiles(rsaDir);
      const leafFile = (await rsa.writeLeaf(rsaDir, rsaLeaf, 'leaf')).certFile;
      const now = Date.now();
      for (const signatureHash of ['SHA-256', 'SHA-1'] as const) {
        const der = await signOcspResponse({
          signer: rsa.authority.responder,
          producedAt: new Date(now),
          signatureHash,
          answers: [{
            certId: { cert: rsaLeaf.certificate, issuer: rsa.authority.intermediate.certificate, hash: 'SHA-256' },
            status: 'good', thisUpdate: new Date(now - MINUTE_MS), nextUpdate: new Date(now + HOUR_MS),
          }],
        });
        const respin = await writeTemp(der);
        const result = openssl(['ocsp', '-respin', respin, '-issuer', ca.intermediateFile, '-cert', leafFile,
          '-CAfile', ca.rootFile, '-verify_other', ca.intermediateFile, '-resp_text']);
        expect(result.output).toContain('Response verify OK');
        expect(result.output).toContain(signatureHash === 'SHA-1' ? 'sha1WithRSAEncryption' : 'sha256WithRSAEncryption');
      }
    } finally {
      await removeTempDir(rsaDir);
    }
  }, 60_000);
});

describe('signOcspResponse, checked by validateOcspResponse', () => {
  it('validates a delegated response and reports who signed it', async () => {
    const now = new Date();
    const request = await buildOcspRequest(leaf.certificate, pki.authority.intermediate.certificate, { nonce: true });
    const { certIds, nonce } = parseOcspRequest(request.der);
    const der = await signOcspResponse({
      signer: pki.authority.responder,
      producedAt: now,
      answers: [{ certId: certIds[0], status: 'good', thisUpdate: new Date(now.getTime() - MINUTE_MS), nextUpdate: new Date(now.getTime() + HOUR_MS) }],
      nonce,
    });
    const validated = await validateOcspResponse(der, {
      issuer: pki.authority.intermediate.certificate, cert: leaf.certificate, at: now, expectedNonce: request.nonce,
    });
    expect(validated).toMatchObject({ certStatus: 'good', signedBy: 'delegated', serialHex: leaf.certificate.summary.serialHex });
  });

  it('validates an issuer-signed revoked response', async () => {
    const now = new Date();
    const der = await signOcspResponse({
      signer: pki.authority.intermediate,
      producedAt: now,
      answers: [answerNow({ status: 'revoked', revocationTime: new Date('2024-01-01T00:00:00Z'), revocationReason: 4 })],
    });
    const validated = await validateOcspResponse(der, { issuer: pki.authority.intermediate.certificate, cert: leaf.certificate, at: now });
    expect(validated).toMatchObject({ certStatus: 'revoked', signedBy: 'issuer', revocationTime: new Date('2024-01-01T00:00:00Z') });
  });

  it('is rejected by the validator when signed by the wrong key', async () => {
    const signer = { certificate: pki.authority.intermediate.certificate, keys: await generateKeyPair() };
    const der = await signOcspResponse({ signer, producedAt: new Date(), answers: [answerNow()] });
    await expect(validateOcspResponse(der, { issuer: pki.authority.intermediate.certificate, cert: leaf.certificate, at: new Date() }))
      .rejects.toMatchObject({ code: 'RESPONSE_UNVERIFIED' });
  });
});

describe('parseOcspRequest', () => {
  it('reads the CertID and nonce of a request openssl built', async () => {
    const reqFile = path.join(dir, 'openssl-request.der');
    const result = openssl(['ocsp', '-issuer', files.intermediateFile, '-cert', files.leafFile, '-reqout', reqFile]);
    expect(result.status).toBe(0);
    const parsed = parseOcspRequest(new Uint8Array(await readFile(reqFile)));
    expect(parsed.certIds).toHaveLength(1);
    expect(parsed.certIds[0]).toMatchObject({ serialHex: leaf.certificate.summary.serialHex, hashAlgorithmOid: '1.3.14.3.2.26' });
    expect(parsed.certIds[0].issuerKeyHash).toHaveLength(20);
    expect(parsed.nonce).toHaveLength(16); // openssl's default nonce length
  });

  it('returns the nonce buildOcspRequest sent, unwrapped (RFC 8954)', async () => {
    const request = await buildOcspRequest(leaf.certificate, pki.authority.intermediate.certificate, { nonce: true });
    expect(parseOcspRequest(request.der).nonce).toEqual(request.nonce);
  });

  it('reports no nonce when none was sent', async () => {
    const request = await buildOcspRequest(leaf.certificate, pki.authority.intermediate.certificate);
    expect(parseOcspRequest(request.der).nonce).toBeUndefined();
  });

  it.each([
    ['garbage', new Uint8Array([1, 2, 3, 4])],
    ['an empty body', new Uint8Array()],
    ['a DER NULL', new Uint8Array([0x05, 0x00])],
  ])('throws RESPONSE_MALFORMED_REQUEST on %s', (_name, bytes) => {
    expect(() => parseOcspRequest(bytes)).toThrow(expect.objectContaining({ code: 'RESPONSE_MALFORMED_REQUEST' }));
  });

  it('throws on a valid request followed by trailing bytes', async () => {
    const request = await buildOcspRequest(leaf.certificate, pki.authority.intermediate.certificate);
    const padded = new Uint8Array([...request.der, 0]);
    expect(() => parseOcspRequest(padded)).toThrow(expect.objectContaining({ code: 'RESPONSE_MALFORMED_REQUEST' }));
  });
});

describe('encodeOcspErrorResponse', () => {
  it('encodes a bare status that openssl names', async () => {
    const result = openssl(['ocsp', '-respin', await writeTemp(encodeOcspErrorResponse('tryLater')), '-resp_text', '-noverify']);
    expect(result.output).toContain('Responder Error: trylater (3)');
  });

  it.each([
    ['malformedRequest', 'RESPONSE_MALFORMED_REQUEST'],
    ['internalError', 'RESPONSE_INTERNAL_ERROR'],
    ['tryLater', 'RESPONSE_TRY_LATER'],
    ['sigRequired', 'RESPONSE_SIG_REQUIRED'],
    ['unauthorized', 'RESPONSE_UNAUTHORIZED'],
  ] as const)('encodes %s so the validator reports %s', async (status, code) => {
    await expect(validateOcspResponse(encodeOcspErrorResponse(status), {
      issuer: pki.authority.intermediate.certificate, cert: leaf.certificate, at: new Date(),
    })).rejects.toMatchObject({ code });
  });
});
