// createStapleHandler behind a real tls.Server on 127.0.0.1: what clients receive as the staple, and hot reload.
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IssuedIdentity } from '../../../src/demo/demo-pki.js';
import { StaplerdError } from '../../../src/errors/index.js';
import { createStapleHandler, type StapleHandler, type StapleHandlerOptions } from '../../../src/index.js';
import { createTestPki, type TestPki } from '../../helpers/test-pki.js';
import {
  createTestClock, replaceFile, requestStaple, runOpensslClient, signStaple, startTlsServer, waitFor, type RunningTlsServer, useStapleDirs,
} from './tls-fixture.js';

const HOUR_MS = 60 * 60 * 1000;

let pki: TestPki;
let leaf: IssuedIdentity;
let otherLeaf: IssuedIdentity;
const makeStapleDir = useStapleDirs();
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  leaf = await pki.issueLeaf();
  otherLeaf = await pki.issueLeaf();
});

afterEach(async () => {
  // Servers first, then handlers: nothing is left listening or watching between tests.
  while (cleanups.length > 0) await cleanups.pop()!();
});

function goodFor(hours: number, from = new Date()): { thisUpdate: Date; nextUpdate: Date } {
  return { thisUpdate: new Date(from.getTime() - HOUR_MS), nextUpdate: new Date(from.getTime() + hours * HOUR_MS) };
}

interface Started {
  handler: StapleHandler;
  server: RunningTlsServer;
  errors: StaplerdError[];
}

async function startHandler(options: StapleHandlerOptions, serverLeaf = leaf, chain: 'full' | 'leaf' = 'full'): Promise<Started> {
  const errors: StaplerdError[] = [];
  const handler = createStapleHandler({ onError: (error) => errors.push(error), ...options });
  cleanups.push(() => handler.close());
  await handler.ready;
  const server = await startTlsServer(pki.authority, serverLeaf, handler.listener, chain);
  cleanups.push(() => server.close());
  return { handler, server, errors };
}

describe('createStapleHandler behind a real TLS server', () => {
  it('staples exactly the bytes of the .ocsp file', async () => {
    const dir = await makeStapleDir();
    const staple = await signStaple(pki.authority, leaf, goodFor(24));
    await writeFile(path.join(dir, 'example.pem.ocsp'), staple);
    const { server, handler } = await startHandler({ dir });

    const answer = await requestStaple(server.port, pki.authority);

    expect(handler.size).toBe(1);
    expect(answer.authorized).toBe(true);
    expect(answer.staple).toEqual(staple);
  });

  it('sends no staple for a certificate it has none for, and the handshake still succeeds', async () => {
    const dir = await makeStapleDir();
    await writeFile(path.join(dir, 'example.pem.ocsp'), await signStaple(pki.authority, leaf, goodFor(24)));
    const { server } = await startHandler({ dir }, otherLeaf);

    const answer = await requestStaple(server.port, pki.authority);

    expect(answer).toEqual({ staple: null, authorized: true });
  });

  it('stops serving a staple once the injected clock passes its nextUpdate', async () => {
    const dir = await makeStapleDir();
    const now = new Date();
    await writeFile(path.join(dir, 'example.pem.ocsp'), await signStaple(pki.authority, leaf, goodFor(2, now)));
    const clock = createTestClock(now);
    const { server, errors } = await startHandler({ dir, clock });

    const before = await requestStaple(server.port, pki.authority);
    clock.set(new Date(now.getTime() + 3 * HOUR_MS));
    const after = await requestStaple(server.port, pki.authority);
    await requestStaple(server.port, pki.authority);

    expect(before.staple).not.toBeNull();
    expect(after).toEqual({ staple: null, authorized: true });
    // Reported once per file version, not once per handshake.
    expect(errors.map((error) => error.code)).toEqual(['RESPONSE_EXPIRED']);
  });

  it('does not serve a staple that had already expired when it was signed', async () => {
    const dir = await makeStapleDir();
    const expired = { thisUpdate: new Date(Date.now() - 30 * HOUR_MS), nextUpdate: new Date(Date.now() - 6 * HOUR_MS) };
    await writeFile(path.join(dir, 'example.pem.ocsp'), await signStaple(pki.authority, leaf, expired));
    const { server, errors } = await startHandler({ dir });

    const answer = await requestStaple(server.port, pki.authority);

    expect(answer).toEqual({ staple: null, authorized: true });
    expect(errors.map((error) => error.code)).toEqual(['RESPONSE_EXPIRED']);
  });

  it('does not serve a staple signed by another key', async () => {
    const dir = await makeStapleDir();
    await writeFile(path.join(dir, 'example.pem.ocsp'), await signStaple(pki.authority, leaf, { ...goodFor(24), wrongKey: true }));
    const { server, errors } = await startHandler({ dir });

    const answer = await requestStaple(server.port, pki.authority);

    expect(answer).toEqual({ staple: null, authorized: true });
    expect(errors.map((error) => error.code)).toEqual(['RESPONSE_UNVERIFIED']);
  });

  it('serves a revoked staple (the truth) but not an "unknown" one', async () => {
    const revokedDir = await makeStapleDir();
    const revoked = await signStaple(pki.authority, leaf, { ...goodFor(24), status: 'revoked' });
    await writeFile(path.join(revokedDir, 'example.pem.ocsp'), revoked);
    const unknownDir = await makeStapleDir();
    await writeFile(path.join(unknownDir, 'example.pem.ocsp'), await signStaple(pki.authority, leaf, { ...goodFor(24), status: 'unknown' }));
    const withRevoked = await startHandler({ dir: revokedDir });
    const withUnknown = await startHandler({ dir: unknownDir });

    const revokedAnswer = await requestStaple(withRevoked.server.port, pki.authority);
    const unknownAnswer = await requestStaple(withUnknown.server.port, pki.authority);

    expect(revokedAnswer.staple).toEqual(revoked);
    expect(unknownAnswer.staple).toBeNull();
    expect(withUnknown.errors.map((error) => error.code)).toEqual(['CERT_STATUS_UNKNOWN']);
  });

  it('picks up a staple replaced by rename (hot reload)', async () => {
    const dir = await makeStapleDir();
    const file = path.join(dir, 'example.pem.ocsp');
    const first = await signStaple(pki.authority, leaf, goodFor(24));
    await writeFile(file, first);
    const { server } = await startHandler({ dir });
    expect((await requestStaple(server.port, pki.authority)).staple).toEqual(first);

    const second = await signStaple(pki.authority, leaf, goodFor(48));
    await replaceFile(file, second);

    const answer = await waitFor(() => requestStaple(server.port, pki.authority), (value) => value.staple?.equals(second) === true);
    expect(answer.staple).toEqual(second);
  });

  it('picks up a staple written into a subdirectory created after start', async () => {
    const dir = await makeStapleDir();
    const { server } = await startHandler({ dir });
    expect((await requestStaple(server.port, pki.authority)).staple).toBeNull();

    const live = path.join(dir, 'live', 'example.test');
    await mkdir(live, { recursive: true });
    const staple = await signStaple(pki.authority, leaf, goodFor(24));
    await replaceFile(path.join(live, 'fullchain.pem.ocsp'), staple);

    const answer = await waitFor(() => requestStaple(server.port, pki.authority), (value) => value.staple !== null);
    expect(answer.staple).toEqual(staple);
  });

  it('prints "OCSP Response Status: successful" in openssl s_client -status', async () => {
    const dir = await makeStapleDir();
    await writeFile(path.join(dir, 'example.pem.ocsp'), await signStaple(pki.authority, leaf, goodFor(24)));
    const { server } = await startHandler({ dir });

    const output = await runOpensslClient(server.port);

    expect(output).toContain('OCSP Response Status: successful');
    expect(output).toContain('Cert Status: good');
  });
});

describe('createStapleHandler when Node passes no issuer (leaf-only certificate)', () => {
  it('serves nothing and reports ISSUER_NOT_FOUND when no issuer is configured', async () => {
    const dir = await makeStapleDir();
    await writeFile(path.join(dir, 'example.pem.ocsp'), await signStaple(pki.authority, leaf, goodFor(24)));
    const { server, errors } = await startHandler({ dir }, leaf, 'leaf');

    const answer = await requestStaple(server.port, pki.authority);

    expect(answer).toEqual({ staple: null, authorized: true });
    expect(errors.map((error) => error.code)).toEqual(['ISSUER_NOT_FOUND']);
  });

  it('validates against a configured issuer and serves the staple', async () => {
    const dir = await makeStapleDir();
    const staple = await signStaple(pki.authority, leaf, goodFor(24));
    await writeFile(path.join(dir, 'example.pem.ocsp'), staple);
    const issuers = [pki.authority.root.certificate.toPem() + pki.authority.intermediate.certificate.toPem()];
    const { server, errors } = await startHandler({ dir, issuers }, leaf, 'leaf');

    const answer = await requestStaple(server.port, pki.authority);

    expect(answer.staple).toEqual(staple);
    expect(errors).toEqual([]);
  });

  it('still refuses a wrongly signed staple found by the issuer name alone', async () => {
    const dir = await makeStapleDir();
    await writeFile(path.join(dir, 'example.pem.ocsp'), await signStaple(pki.authority, leaf, { ...goodFor(24), wrongKey: true }));
    const issuers = [pki.authority.intermediate.certificate.der];
    const { server, errors } = await startHandler({ dir, issuers }, leaf, 'leaf');

    const answer = await requestStaple(server.port, pki.authority);

    expect(answer.staple).toBeNull();
    expect(errors.map((error) => error.code)).toEqual(['RESPONSE_UNVERIFIED']);
  });
});
