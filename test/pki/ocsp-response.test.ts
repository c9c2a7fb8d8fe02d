// Behaviour of validateOcspResponse and inspectOcspResponse on responses signed by `openssl ocsp` in a temp dir.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StaplerdError, type ErrorCode } from '../../src/errors/index.js';
import { Certificate } from '../../src/pki/certificate.js';
import { buildOcspRequest } from '../../src/pki/ocsp-request.js';
import { inspectOcspResponse, validateOcspResponse, validateRememberedOcspResponse, type ValidationInput } from '../../src/pki/ocsp-response.js';
import { readCertificateFile } from '../../src/pki/pem.js';
import { createValidationMemos } from '../../src/pki/validation-memos.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const LEAF_SERIAL = 'f1e2';
const NONCE = new Uint8Array(32).fill(7);
/** For responses rejected before any time check. */
const ANY_TIME = new Date('2025-01-01T00:00:00Z');

// Extensions for `openssl x509 -req -extfile`; nothing here reaches the network (the URLs are never fetched).
const EXTENSIONS = `
[leaf]
basicConstraints=CA:FALSE
authorityInfoAccess=OCSP;URI:http://127.0.0.1:1/ocsp
[responder]
basicConstraints=CA:FALSE
extendedKeyUsage=OCSPSigning
[no_eku]
basicConstraints=CA:FALSE
extendedKeyUsage=serverAuth
`;

let dir: string;
let ca: Certificate;
let otherCa: Certificate;
let leaf: Certificate;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function loadCertificate(name: string): Certificate {
  return Certificate.fromDer(readCertificateFile(readFileSync(path.join(dir, name)), name).certificates[0]!, name);
}

function makeCa(name: string, subject: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.pem`, '-subj', subject, '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE');
}

function makeIssued(name: string, issuer: string, subject: string, extensions: string, options: { rsa?: boolean; days?: string; serial?: string } = {}): void {
  const keyArgs = options.rsa ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl('req', '-new', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-set_serial', options.serial ?? '0x4242',
    '-days', options.days ?? '10', '-extfile', 'extensions.cnf', '-extensions', extensions, '-out', `${name}.pem`);
}

/** Runs `openssl ocsp` as a responder on a request file (offline: -reqin/-respout, no -port or -url). */
function respond(signer: string, extra: string[] = [], request = 'request.der', index = 'index.txt'): Uint8Array {
  const out = `response-${signer}-${extra.join('').replace(/[^a-z0-9]/gi, '')}-${request}`;
  openssl('ocsp', '-index', index, '-CA', 'ca.pem', '-rsigner', `${signer}.pem`, '-rkey', `${signer}.key`,
    '-reqin', request, '-respout', out, ...extra);
  return new Uint8Array(readFileSync(path.join(dir, out)));
}

/** A verification time just after the response's thisUpdate, read from the response so no clock is involved. */
function justAfterThisUpdate(der: Uint8Array, offsetMs = MINUTE_MS): Date {
  return new Date(inspectOcspResponse(der).singles[0]!.thisUpdate.getTime() + offsetMs);
}

function nextUpdateOf(der: Uint8Array): Date {
  return inspectOcspResponse(der).singles[0]!.nextUpdate!;
}

function inputFor(der: Uint8Array, overrides: Partial<ValidationInput> = {}): ValidationInput {
  return { issuer: ca, cert: leaf, at: justAfterThisUpdate(der), ...overrides };
}

async function expectRejection(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(StaplerdError);
  await expect(promise).rejects.toMatchObject({ code });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'staplerd-ocsp-response-'));
  writeFileSync(path.join(dir, 'extensions.cnf'), EXTENSIONS);
  makeCa('ca', '/O=Staplerd Test/CN=Test CA');
  makeCa('other-ca', '/O=Staplerd Test/CN=Other CA');
  // Same name as the real CA, different key: a forger's issuer.
  makeCa('rogue-ca', '/O=Staplerd Test/CN=Test CA');
  makeIssued('leaf', 'ca', '/CN=leaf.test', 'leaf', { serial: '0x00f1e2' });
  makeIssued('responder', 'ca', '/CN=Test OCSP Responder', 'responder', { rsa: true, days: '1' });
  makeIssued('no-eku', 'ca', '/CN=Responder without OCSPSigning', 'no_eku');
  makeIssued('foreign-responder', 'other-ca', '/CN=Test OCSP Responder', 'responder');
  writeFileSync(path.join(dir, 'index.txt'), `V\t301231000000Z\t\tF1E2\tunknown\t/CN=leaf.test\n`);
  writeFileSync(path.join(dir, 'revoked.txt'), `R\t301231000000Z\t240102030405Z,keyCompromise\tF1E2\tunknown\t/CN=leaf.test\n`);
  openssl('ocsp', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'request.der');
  openssl('ocsp', '-issuer', 'ca.pem', '-sha256', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'request-sha256.der');
  openssl('ocsp', '-issuer', 'ca.pem', '-serial', '0x1234', '-no_nonce', '-reqout', 'request-unknown.der');
  ca = loadCertificate('ca.pem');
  otherCa = loadCertificate('other-ca.pem');
  leaf = loadCertificate('leaf.pem');
  const withNonce = await buildOcspRequest(leaf, ca, { nonce: true, randomBytes: (n) => NONCE.subarray(0, n) });
  writeFileSync(path.join(dir, 'request-nonce.der'), withNonce.der);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('validateOcspResponse accepts', () => {
  it('an OpenSSL response without nextUpdate (RFC 6960 4.2.2.1), usable until thisUpdate + 1 day by default', async () => {
    const der = respond('ca');
    expect(inspectOcspResponse(der).singles[0]!.nextUpdate).toBeUndefined();
    const thisUpdate = inspectOcspResponse(der).singles[0]!.thisUpdate;
    const result = await validateOcspResponse(der, inputFor(der, { at: justAfterThisUpdate(der, DAY_MS - 6 * MINUTE_MS) }));
    expect(result.certStatus).toBe('good');
    expect(result.nextUpdate).toEqual(new Date(thisUpdate.getTime() + DAY_MS));
    expect(result.nextUpdateImplied).toBe(true);
  });

  it('a response without nextUpdate for the configured lifetime instead', async () => {
    const der = respond('ca');
    const thisUpdate = inspectOcspResponse(der).singles[0]!.thisUpdate;
    const result = await validateOcspResponse(der, inputFor(der, { at: justAfterThisUpdate(der, 2 * DAY_MS), lifetimeWithoutNextUpdateMs: 3 * DAY_MS }));
    expect(result.nextUpdate).toEqual(new Date(thisUpdate.getTime() + 3 * DAY_MS));
  });

  it('a response with nextUpdate as it is, not marked implied', async () => {
    const der = respond('ca', ['-ndays', '1']);
    const result = await validateOcspResponse(der, inputFor(der));
    expect(result.nextUpdate).toEqual(nextUpdateOf(der));
    expect(result.nextUpdateImplied).toBeUndefined();
  });

  it('an issuer-signed ECDSA response, returning its status and times', async () => {
    const der = respond('ca', ['-ndays', '1']);
    const result = await validateOcspResponse(der, inputFor(der));
    const inspected = inspectOcspResponse(der).singles[0]!;
    expect(result).toMatchObject({ certStatus: 'good', serialHex: LEAF_SERIAL, signedBy: 'issuer', thisUpdate: inspected.thisUpdate });
    expect(result.nextUpdate.getTime() - result.thisUpdate.getTime()).toBe(24 * 60 * MINUTE_MS);
    expect(Buffer.from(result.der).equals(Buffer.from(der))).toBe(true);
  });

  it('a response whose responderID is the issuer key hash', async () => {
    const der = respond('ca', ['-ndays', '1', '-resp_key_id', '-resp_no_certs']);
    await expect(validateOcspResponse(der, inputFor(der))).resolves.toMatchObject({ signedBy: 'issuer' });
  });

  it('a response signed by a delegated responder the issuer certified for OCSPSigning', async () => {
    const der = respond('responder', ['-ndays', '1']);
    await expect(validateOcspResponse(der, inputFor(der))).resolves.toMatchObject({ signedBy: 'delegated', certStatus: 'good' });
  });

  it('a delegated response identified by key hash and signed with SHA-1 RSA', async () => {
    const der = respond('responder', ['-ndays', '1', '-resp_key_id', '-rmd', 'sha1']);
    await expect(validateOcspResponse(der, inputFor(der))).resolves.toMatchObject({ signedBy: 'delegated' });
  });

  it('a delegated response signed with RSA-PSS', async () => {
    const der = respond('responder', ['-ndays', '1', '-rmd', 'sha256', '-rsigopt', 'rsa_padding_mode:pss', '-rsigopt', 'rsa_pss_saltlen:32']);
    await expect(validateOcspResponse(der, inputFor(der))).resolves.toMatchObject({ signedBy: 'delegated' });
  });

  it('a serial given in upper case with leading zeros instead of the certificate', async () => {
    const der = respond('ca', ['-ndays', '1']);
    const input = { issuer: ca, serialHex: '00F1E2', at: justAfterThisUpdate(der) };
    await expect(validateOcspResponse(der, input)).resolves.toMatchObject({ serialHex: LEAF_SERIAL });
  });

  it('a CertID hashed with SHA-256', async () => {
    const der = respond('ca', ['-ndays', '1'], 'request-sha256.der');
    await expect(validateOcspResponse(der, inputFor(der))).resolves.toMatchObject({ certStatus: 'good' });
  });

  it('a revoked status, returned with its time and reason rather than thrown', async () => {
    const der = respond('ca', ['-ndays', '1'], 'request.der', 'revoked.txt');
    await expect(validateOcspResponse(der, inputFor(der))).resolves.toMatchObject({
      certStatus: 'revoked', revocationTime: new Date('2024-01-02T03:04:05Z'), revocationReason: 'keyCompromise',
    });
  });

  it('an unknown status, returned rather than thrown', async () => {
    const der = respond('ca', ['-ndays', '1'], 'request-unknown.der');
    const input = { issuer: ca, serialHex: '1234', at: justAfterThisUpdate(der) };
    await expect(validateOcspResponse(der, input)).resolves.toMatchObject({ certStatus: 'unknown', serialHex: '1234' });
  });

  it('a thisUpdate up to the default clock skew ahead of the verification time', async () => {
    const der = respond('ca', ['-ndays', '1']);
    await expect(validateOcspResponse(der, inputFor(der, { at: justAfterThisUpdate(der, -4 * MINUTE_MS) }))).resolves.toMatchObject({ certStatus: 'good' });
  });

  it('a nextUpdate closer than the default margin when minRemainingMs is 0', async () => {
    const der = respond('ca', ['-ndays', '1']);
    const at = new Date(nextUpdateOf(der).getTime() - MINUTE_MS);
    await expect(validateOcspResponse(der, inputFor(der, { at, minRemainingMs: 0 }))).resolves.toMatchObject({ certStatus: 'good' });
  });

  it('a response echoing the request nonce', async () => {
    const der = respond('ca', ['-ndays', '1'], 'request-nonce.der');
    await expect(validateOcspResponse(der, inputFor(der, { expectedNonce: NONCE }))).resolves.toMatchObject({ certStatus: 'good' });
  });

  it('a response without a nonce when one was sent (RFC 5019 responders ignore nonces)', async () => {
    const der = respond('ca', ['-ndays', '1']);
    await expect(validateOcspResponse(der, inputFor(der, { expectedNonce: NONCE }))).resolves.toMatchObject({ certStatus: 'good' });
  });
});

describe('validateOcspResponse rejects', () => {
  it('a response for another serial', async () => {
    const der = respond('ca', ['-ndays', '1']);
    await expectRejection(validateOcspResponse(der, { issuer: ca, serialHex: 'f1e3', at: justAfterThisUpdate(der) }), 'RESPONSE_CERTID_MISMATCH');
  });

  it('a response whose CertID names another issuer', async () => {
    const der = respond('ca', ['-ndays', '1']);
    await expectRejection(validateOcspResponse(der, inputFor(der, { issuer: otherCa })), 'RESPONSE_CERTID_MISMATCH');
  });

  it('a response signed by another key under the issuer name', async () => {
    const der = respond('rogue-ca', ['-ndays', '1']);
    await expectRejection(validateOcspResponse(der, inputFor(der)), 'RESPONSE_UNVERIFIED');
  });

  it('a response whose signature was altered', async () => {
    const der = respond('ca', ['-ndays', '1', '-resp_no_certs']);
    // Without certs the signature ends the DER; changing its last octet keeps the encoding valid.
    const altered = new Uint8Array(der);
    altered[altered.length - 1] ^= 0x01;
    await expectRejection(validateOcspResponse(altered, inputFor(der)), 'RESPONSE_UNVERIFIED');
  });

  it('a delegated responder certificate without id-kp-OCSPSigning', async () => {
    const der = respond('no-eku', ['-ndays', '1']);
    await expectRejection(validateOcspResponse(der, inputFor(der)), 'RESPONDER_UNAUTHORIZED');
  });

  it('a delegated response that does not carry its responder certificate', async () => {
    const der = respond('responder', ['-ndays', '1', '-resp_no_certs']);
    await expectRejection(validateOcspResponse(der, inputFor(der)), 'RESPONDER_UNAUTHORIZED');
  });

  it('a responder certificate issued by another CA', async () => {
    const der = respond('foreign-responder', ['-ndays', '1']);
    await expectRejection(validateOcspResponse(der, inputFor(der)), 'RESPONDER_UNAUTHORIZED');
  });

  it('a responder certificate that has expired at the verification time', async () => {
    const der = respond('responder', ['-ndays', '30']);
    const responder = loadCertificate('responder.pem');
    const at = new Date(responder.summary.notAfter.getTime() + MINUTE_MS);
    await expectRejection(validateOcspResponse(der, inputFor(der, { at })), 'RESPONDER_UNAUTHORIZED');
  });

  it('a response without nextUpdate once a day has passed since its thisUpdate (Firefox\'s bound)', async () => {
    const der = respond('ca');
    expect(inspectOcspResponse(der).singles[0]!.nextUpdate).toBeUndefined();
    // Usable until thisUpdate + 1 day minus the default five-minute margin: four minutes short of that is too late.
    await expectRejection(validateOcspResponse(der, inputFor(der, { at: justAfterThisUpdate(der, DAY_MS - 4 * MINUTE_MS) })), 'RESPONSE_NO_NEXT_UPDATE');
  });

  it('a response without nextUpdate past a configured shorter lifetime', async () => {
    const der = respond('ca');
    await expectRejection(validateOcspResponse(der, inputFor(der, { at: justAfterThisUpdate(der, 2 * HOUR_MS), lifetimeWithoutNextUpdateMs: HOUR_MS })), 'RESPONSE_NO_NEXT_UPDATE');
  });

  it('any response without nextUpdate when the lifetime for them is 0', async () => {
    const der = respond('ca');
    await expectRejection(validateOcspResponse(der, inputFor(der, { at: justAfterThisUpdate(der, 0), lifetimeWithoutNextUpdateMs: 0, minRemainingMs: 0 })), 'RESPONSE_NO_NEXT_UPDATE');
  });

  it('a thisUpdate further ahead than the clock skew', async () => {
    const der = respond('ca', ['-ndays', '1']);
    await expectRejection(validateOcspResponse(der, inputFor(der, { at: justAfterThisUpdate(der, -6 * MINUTE_MS) })), 'RESPONSE_NOT_YET_VALID');
  });

  it('a thisUpdate ahead of the verification time when clockSkewMs is 0', async () => {
    const der = respond('ca', ['-ndays', '1']);
    const at = justAfterThisUpdate(der, -1000);
    await expectRejection(validateOcspResponse(der, inputFor(der, { at, clockSkewMs: 0 })), 'RESPONSE_NOT_YET_VALID');
  });

  it('a nextUpdate within the default five-minute margin', async () => {
    const der = respond('ca', ['-ndays', '1']);
    const at = new Date(nextUpdateOf(der).getTime() - 4 * MINUTE_MS);
    await expectRejection(validateOcspResponse(der, inputFor(der, { at })), 'RESPONSE_EXPIRED');
  });

  it('a nextUpdate equal to the verification time even with no margin', async () => {
    const der = respond('ca', ['-ndays', '1']);
    await expectRejection(validateOcspResponse(der, inputFor(der, { at: nextUpdateOf(der), minRemainingMs: 0 })), 'RESPONSE_EXPIRED');
  });

  it('a response whose nonce differs from the request nonce', async () => {
    const der = respond('ca', ['-ndays', '1'], 'request-nonce.der');
    const expectedNonce = new Uint8Array(32).fill(8);
    await expectRejection(validateOcspResponse(der, inputFor(der, { expectedNonce })), 'RESPONSE_NONCE_MISMATCH');
  });

  it('with an error naming the file it was given', async () => {
    const der = respond('ca');
    await expect(validateOcspResponse(der, inputFor(der, { at: justAfterThisUpdate(der, 2 * DAY_MS), file: '/var/lib/staplerd/leaf.ocsp' }))).rejects.toMatchObject({
      code: 'RESPONSE_NO_NEXT_UPDATE', file: '/var/lib/staplerd/leaf.ocsp',
    });
  });
});

/** DER of OCSPResponse { responseStatus, responseBytes? } built by hand for statuses and types openssl will not produce. */
function encodeResponse(status: number, responseBytes: number[] = []): Uint8Array {
  const body = [0x0a, 0x01, status, ...responseBytes];
  return new Uint8Array([0x30, body.length, ...body]);
}

describe('validateOcspResponse on malformed and error responses', () => {
  const statusCodes: [number, string, ErrorCode][] = [
    [1, 'malformedRequest', 'RESPONSE_MALFORMED_REQUEST'],
    [2, 'internalError', 'RESPONSE_INTERNAL_ERROR'],
    [3, 'tryLater', 'RESPONSE_TRY_LATER'],
    [5, 'sigRequired', 'RESPONSE_SIG_REQUIRED'],
    [6, 'unauthorized', 'RESPONSE_UNAUTHORIZED'],
  ];
  for (const [value, name, code] of statusCodes) {
    it(`maps responseStatus ${name} to ${code}`, async () => {
      await expectRejection(validateOcspResponse(encodeResponse(value), { issuer: ca, cert: leaf, at: ANY_TIME }), code);
      expect(() => inspectOcspResponse(encodeResponse(value))).toThrow(expect.objectContaining({ code }));
    });
  }

  it('rejects an undefined responseStatus as malformed', async () => {
    await expectRejection(validateOcspResponse(encodeResponse(4), { issuer: ca, cert: leaf, at: ANY_TIME }), 'RESPONSE_MALFORMED');
  });

  it('rejects a successful status without responseBytes as malformed', async () => {
    await expectRejection(validateOcspResponse(encodeResponse(0), { issuer: ca, cert: leaf, at: ANY_TIME }), 'RESPONSE_MALFORMED');
  });

  it('rejects a responseType other than id-pkix-ocsp-basic', async () => {
    // [0] { SEQUENCE { OID 1.3.6.1.5.5.7.48.1.9 (not basic), OCTET STRING {} } }
    const oid = [0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x09];
    const bytes = [0xa0, 0x0f, 0x30, 0x0d, ...oid, 0x04, 0x00];
    await expectRejection(validateOcspResponse(encodeResponse(0, bytes), { issuer: ca, cert: leaf, at: ANY_TIME }), 'RESPONSE_TYPE_UNSUPPORTED');
  });

  it('rejects trailing bytes after a valid response', async () => {
    const der = respond('ca', ['-ndays', '1']);
    await expectRejection(validateOcspResponse(new Uint8Array([...der, 0x00]), inputFor(der)), 'RESPONSE_MALFORMED');
  });

  it('rejects a truncated response', async () => {
    const der = respond('ca', ['-ndays', '1']);
    await expectRejection(validateOcspResponse(der.subarray(0, der.length - 10), inputFor(der)), 'RESPONSE_MALFORMED');
  });

  it('rejects bytes that are not ASN.1 at all', async () => {
    const garbage = new TextEncoder().encode('<html>503 Service Unavailable</html>');
    await expectRejection(validateOcspResponse(garbage, { issuer: ca, cert: leaf, at: ANY_TIME }), 'RESPONSE_MALFORMED');
  });
});

describe('validateOcspResponse with a signature the memo remembers', () => {
  it('answers the signature from memory and still checks the CertID, the signer and the time window', async () => {
    const memos = createValidationMemos();
    const der = respond('ca', ['-ndays', '1']);
    await validateOcspResponse(der, inputFor(der, { memos }));
    const hitsBefore = memos.signatures.statistics.hits;
    await expect(validateOcspResponse(der, inputFor(der, { memos }))).resolves.toMatchObject({ certStatus: 'good', signedBy: 'issuer' });
    expect(memos.signatures.statistics.hits - hitsBefore).toBe(1);
    await expectRejection(validateOcspResponse(der, inputFor(der, { memos, at: nextUpdateOf(der) })), 'RESPONSE_EXPIRED');
    await expectRejection(validateOcspResponse(der, { issuer: ca, serialHex: 'f1e3', at: justAfterThisUpdate(der), memos }), 'RESPONSE_CERTID_MISMATCH');
    await expectRejection(validateOcspResponse(der, inputFor(der, { memos, issuer: otherCa })), 'RESPONSE_CERTID_MISMATCH');
  });

  it('gives the same validated response without a promise once the issuer signature is remembered, and nothing else', async () => {
    const memos = createValidationMemos();
    const der = respond('ca', ['-ndays', '1']);
    expect(validateRememberedOcspResponse(der, inputFor(der, { memos }))).toBeUndefined();
    const validated = await validateOcspResponse(der, inputFor(der, { memos }));
    expect(validateRememberedOcspResponse(der, inputFor(der, { memos }))).toEqual(validated);
    // Any failure leaves the verdict to validateOcspResponse, which names it.
    expect(validateRememberedOcspResponse(der, inputFor(der, { memos, at: nextUpdateOf(der) }))).toBeUndefined();
    expect(validateRememberedOcspResponse(der, inputFor(der, { memos, issuer: otherCa }))).toBeUndefined();
    // A delegated responder's authorisation is always checked in full.
    const delegated = respond('responder', ['-ndays', '1']);
    await expect(validateOcspResponse(delegated, inputFor(delegated, { memos }))).resolves.toMatchObject({ signedBy: 'delegated' });
    expect(validateRememberedOcspResponse(delegated, inputFor(delegated, { memos }))).toBeUndefined();
  });

  it('remembers nothing for a signature that did not verify: a forged response fails every time', async () => {
    const memos = createValidationMemos();
    const der = respond('rogue-ca', ['-ndays', '1']);
    await expectRejection(validateOcspResponse(der, inputFor(der, { memos })), 'RESPONSE_UNVERIFIED');
    await expectRejection(validateOcspResponse(der, inputFor(der, { memos })), 'RESPONSE_UNVERIFIED');
    expect(memos.signatures.size).toBe(0);
  });
});

describe('inspectOcspResponse', () => {
  it('reads status, serial and times without verifying the signature', () => {
    const der = respond('rogue-ca', ['-ndays', '1']);
    const inspected = inspectOcspResponse(der);
    expect(inspected.responseStatus).toBe('successful');
    expect(inspected.singles).toHaveLength(1);
    expect(inspected.singles[0]).toMatchObject({ serialHex: LEAF_SERIAL, certStatus: 'good' });
    expect(inspected.singles[0]!.nextUpdate!.getTime() - inspected.singles[0]!.thisUpdate.getTime()).toBe(24 * 60 * MINUTE_MS);
    expect(inspected.producedAt).toBeInstanceOf(Date);
  });

  it('throws RESPONSE_MALFORMED for an empty body', () => {
    expect(() => inspectOcspResponse(new Uint8Array())).toThrow(expect.objectContaining({ code: 'RESPONSE_MALFORMED' }));
  });
});
