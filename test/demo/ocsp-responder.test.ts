// The in-process responder answers RFC 6960 GET and POST on 127.0.0.1 and misbehaves on request.
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildOcspRequest } from '../../src/pki/ocsp-request.js';
import { inspectOcspResponse, validateOcspResponse } from '../../src/pki/ocsp-response.js';
import { encodeOcspErrorResponse } from '../../src/demo/sign-ocsp-response.js';
import type { Certificate } from '../../src/pki/certificate.js';
import type { IssuedIdentity } from '../../src/demo/demo-pki.js';
import { startOcspResponder, type Fault, type ResponderOptions, type RunningResponder } from '../../src/demo/ocsp-responder.js';
import { createTestPki, makeTempDir, removeTempDir, type TestPki } from '../helpers/test-pki.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
// A fixed instant inside the test PKI's validity, in whole seconds as OCSP times are encoded.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);

interface HttpResult {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  body: Uint8Array;
}

let pki: TestPki;
let leaf: IssuedIdentity;
let responder: RunningResponder;
const extraResponders: RunningResponder[] = [];

async function toResult(response: Response): Promise<HttpResult> {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    retryAfter: response.headers.get('retry-after'),
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

async function post(url: string, der: Uint8Array): Promise<HttpResult> {
  return toResult(await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: der }));
}

async function get(url: string, der: Uint8Array, alphabet: 'base64' | 'base64url' = 'base64'): Promise<HttpResult> {
  return toResult(await fetch(`${url}${encodeURIComponent(Buffer.from(der).toString(alphabet))}`));
}

async function requestFor(cert: Certificate = leaf.certificate, issuer: Certificate = pki.authority.intermediate.certificate, nonce = false) {
  return buildOcspRequest(cert, issuer, { nonce });
}

function validate(body: Uint8Array, at: Date = new Date(), cert: Certificate = leaf.certificate, issuer = pki.authority.intermediate.certificate) {
  return validateOcspResponse(body, { issuer, cert, at });
}

async function startExtra(options: Partial<ResponderOptions>): Promise<RunningResponder> {
  const started = await startOcspResponder({ authority: pki.authority, ...options });
  extraResponders.push(started);
  return started;
}

/** Waits (without asserting on time) until the responder has logged `count` requests. */
async function waitForRequests(target: RunningResponder, count: number): Promise<void> {
  while (target.requests.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

beforeAll(async () => {
  pki = await createTestPki();
  leaf = await pki.issueLeaf();
  responder = await startOcspResponder({ authority: pki.authority });
});

afterEach(() => {
  responder.setFault('none');
});

afterAll(async () => {
  await Promise.all([responder.close(), ...extraResponders.map((extra) => extra.close())]);
});

describe('startOcspResponder', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(responder.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('answers POST with a delegated response that echoes the nonce', async () => {
    const request = await requestFor(leaf.certificate, pki.authority.intermediate.certificate, true);
    const result = await post(responder.url, request.der);
    expect(result.status).toBe(200);
    expect(result.contentType).toBe('application/ocsp-response');
    const validated = await validateOcspResponse(result.body, {
      issuer: pki.authority.intermediate.certificate, cert: leaf.certificate, at: new Date(), expectedNonce: request.nonce,
    });
    expect(validated).toMatchObject({ certStatus: 'good', signedBy: 'delegated' });
    // A response without a nonce would be accepted here too (RFC 8954 lets responders ignore it): prove it is ours.
    await expect(validateOcspResponse(result.body, {
      issuer: pki.authority.intermediate.certificate, cert: leaf.certificate, at: new Date(), expectedNonce: new Uint8Array(32),
    })).rejects.toMatchObject({ code: 'RESPONSE_NONCE_MISMATCH' });
  });

  it.each(['base64', 'base64url'] as const)('answers GET with the request in the path (%s)', async (alphabet) => {
    const result = await get(responder.url, (await requestFor()).der, alphabet);
    expect(result.status).toBe(200);
    await expect(validate(result.body)).resolves.toMatchObject({ certStatus: 'good' });
  });

  it('logs each request with its method, serial and whether it carried a nonce', async () => {
    const target = await startExtra({});
    await post(target.url, (await requestFor(leaf.certificate, pki.authority.intermediate.certificate, true)).der);
    await get(target.url, (await requestFor()).der);
    expect(target.requestCount).toBe(2);
    expect(target.requests).toEqual([
      { method: 'POST', serialHex: leaf.certificate.summary.serialHex, nonce: true },
      { method: 'GET', serialHex: leaf.certificate.summary.serialHex, nonce: false },
    ]);
  });

  it('sets thisUpdate a minute before its clock and nextUpdate validityMs later', async () => {
    const target = await startExtra({ now: () => NOW, validityMs: 4 * HOUR_MS });
    const validated = await validate((await post(target.url, (await requestFor()).der)).body, NOW);
    expect(validated.thisUpdate).toEqual(new Date(NOW.getTime() - MINUTE_MS));
    expect(validated.nextUpdate).toEqual(new Date(NOW.getTime() - MINUTE_MS + 4 * HOUR_MS));
  });

  it('signs with the issuer key when signBy is issuer', async () => {
    const target = await startExtra({ signBy: 'issuer' });
    const validated = await validate((await post(target.url, (await requestFor()).der)).body);
    expect(validated.signedBy).toBe('issuer');
  });

  it('answers for the intermediate itself, signed by the root', async () => {
    const request = await requestFor(pki.authority.intermediate.certificate, pki.authority.root.certificate);
    const result = await post(responder.url, request.der);
    const validated = await validate(result.body, new Date(), pki.authority.intermediate.certificate, pki.authority.root.certificate);
    expect(validated).toMatchObject({ certStatus: 'good', signedBy: 'issuer' });
  });

  it('reports the status set with setStatus, over statusFor', async () => {
    const revoked = await pki.issueLeaf();
    const unknown = await pki.issueLeaf();
    const target = await startExtra({ statusFor: (serialHex) => (serialHex === unknown.certificate.summary.serialHex ? { status: 'unknown' } : { status: 'good' }) });
    target.setStatus(revoked.certificate.summary.serialHex, { status: 'revoked', revocationTime: new Date('2025-01-01T00:00:00Z'), reason: 1 });
    const revokedResult = await post(target.url, (await requestFor(revoked.certificate)).der);
    await expect(validate(revokedResult.body, new Date(), revoked.certificate)).resolves.toMatchObject({
      certStatus: 'revoked', revocationTime: new Date('2025-01-01T00:00:00Z'), revocationReason: 'keyCompromise',
    });
    const unknownResult = await post(target.url, (await requestFor(unknown.certificate)).der);
    await expect(validate(unknownResult.body, new Date(), unknown.certificate)).resolves.toMatchObject({ certStatus: 'unknown' });
  });

  it('satisfies the openssl ocsp client, with and without a nonce, SHA-1 and SHA-256 CertIDs', async () => {
    const dir = await makeTempDir();
    try {
      const ca = await pki.writeCaFiles(dir);
      const leafFile = (await pki.writeLeaf(dir, leaf, 'leaf')).certFile;
      // Asynchronous: a synchronous child process would block the responder living in this very process.
      const run = (extra: string[]) => promisify(execFile)('openssl', [
        'ocsp', ...extra, '-url', responder.url, '-issuer', ca.intermediateFile, '-cert', leafFile,
        '-CAfile', ca.rootFile, '-verify_other', ca.intermediateFile,
      ]);
      for (const extra of [[], ['-sha256'], ['-no_nonce', '-sha256']]) {
        const { stdout, stderr } = await run(extra);
        expect(`${stdout}${stderr}`).toContain('Response verify OK');
        expect(stdout).toContain(`${leafFile}: good`);
        expect(stderr).not.toMatch(/nonce/i); // openssl warns when its nonce is not echoed
      }
    } finally {
      await removeTempDir(dir);
    }
  });

  it('answers unauthorized for a certificate from another CA', async () => {
    const other = await createTestPki();
    const stranger = await other.issueLeaf();
    const result = await post(responder.url, (await requestFor(stranger.certificate, other.authority.intermediate.certificate)).der);
    expect(result.body).toEqual(encodeOcspErrorResponse('unauthorized'));
  });

  it('answers malformedRequest to a body that is not an OCSP request', async () => {
    const result = await post(responder.url, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]));
    expect(result.status).toBe(200);
    expect(result.body).toEqual(encodeOcspErrorResponse('malformedRequest'));
  });

  it('refuses methods other than GET and POST', async () => {
    const response = await fetch(responder.url, { method: 'PUT', body: 'x' });
    expect(response.status).toBe(405);
  });
});

describe('faults', () => {
  it.each([
    ['truncated', 'RESPONSE_MALFORMED'],
    ['wrong-key', 'RESPONSE_UNVERIFIED'],
    ['other-serial', 'RESPONSE_CERTID_MISMATCH'],
    ['expired', 'RESPONSE_EXPIRED'],
  ] as const)('%s makes the validator fail with %s', async (fault, code) => {
    const request = await requestFor();
    await expect(validate((await post(responder.url, request.der)).body)).resolves.toMatchObject({ certStatus: 'good' });
    responder.setFault(fault);
    await expect(validate((await post(responder.url, request.der)).body)).rejects.toMatchObject({ code });
  });

  it('no-next-update answers without nextUpdate: valid for a day after thisUpdate, not beyond (RFC 6960 4.2.2.1)', async () => {
    const request = await requestFor();
    responder.setFault('no-next-update');
    const body = (await post(responder.url, request.der)).body;
    await expect(validate(body)).resolves.toMatchObject({ certStatus: 'good', nextUpdateImplied: true });
    await expect(validate(body, new Date(Date.now() + 2 * 24 * 60 * 60_000))).rejects.toMatchObject({ code: 'RESPONSE_NO_NEXT_UPDATE' });
  });

  it('http-500 and try-later send Retry-After when configured', async () => {
    const target = await startExtra({ retryAfterSeconds: 120 });
    const request = await requestFor();
    target.setFault('http-500');
    expect(await post(target.url, request.der)).toMatchObject({ status: 500, retryAfter: '120' });
    target.setFault('try-later');
    const tryLater = await post(target.url, request.der);
    expect(tryLater).toMatchObject({ status: 200, retryAfter: '120', contentType: 'application/ocsp-response' });
    expect(tryLater.body).toEqual(encodeOcspErrorResponse('tryLater'));
  });

  it('html answers 200 with a web page', async () => {
    responder.setFault('html');
    const result = await post(responder.url, (await requestFor()).der);
    expect(result).toMatchObject({ status: 200, contentType: 'text/html' });
    expect(Buffer.from(result.body).toString('utf8')).toContain('<html>');
  });

  it('oversized pads a valid response past 64 KiB', async () => {
    responder.setFault('oversized');
    const result = await post(responder.url, (await requestFor()).der);
    expect(result.body.length).toBeGreaterThan(64 * 1024);
    expect(result.body[0]).toBe(0x30);
    expect(result.body[result.body.length - 1]).toBe(0);
  });

  it('stale signs thisUpdate two hours earlier than normal', async () => {
    const target = await startExtra({ now: () => NOW });
    const request = await requestFor();
    const normal = inspectOcspResponse((await post(target.url, request.der)).body);
    target.setFault('stale');
    const stale = inspectOcspResponse((await post(target.url, request.der)).body);
    expect(normal.singles[0].thisUpdate.getTime() - stale.singles[0].thisUpdate.getTime()).toBe(2 * HOUR_MS);
    expect(normal.producedAt!.getTime() - stale.producedAt!.getTime()).toBe(2 * HOUR_MS);
  });

  it('get-404 fails GET but still answers POST', async () => {
    responder.setFault('get-404');
    const request = await requestFor();
    expect((await get(responder.url, request.der)).status).toBe(404);
    const posted = await post(responder.url, request.der);
    await expect(validate(posted.body)).resolves.toMatchObject({ certStatus: 'good' });
  });

  it('hang holds requests open until close, counting them in flight', async () => {
    const target = await startOcspResponder({ authority: pki.authority });
    target.setFault('hang');
    const request = await requestFor();
    const pending = [post(target.url, request.der), post(target.url, request.der), get(target.url, request.der)];
    await waitForRequests(target, 3);
    expect(target.maxInFlight).toBe(3);
    await target.close();
    for (const attempt of pending) await expect(attempt).rejects.toThrow();
  });

  it('none restores normal answers', async () => {
    const request = await requestFor();
    responder.setFault('http-500' satisfies Fault);
    expect((await post(responder.url, request.der)).status).toBe(500);
    responder.setFault('none');
    expect((await post(responder.url, request.der)).status).toBe(200);
  });
});
