// createStapleHandler called directly (no TLS): options, reload without watching, bad input, close() releasing its watchers.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IssuedIdentity } from '../../../src/demo/demo-pki.js';
import { StaplerdError } from '../../../src/errors/index.js';
import { createStapleHandler, type StapleHandler } from '../../../src/index.js';
import { createTestPki, type TestPki } from '../../helpers/test-pki.js';
import { createTestClock, replaceFile, signStaple, waitFor, useStapleDirs } from './tls-fixture.js';

const HOUR_MS = 60 * 60 * 1000;

let pki: TestPki;
let leaf: IssuedIdentity;
const makeStapleDir = useStapleDirs();

beforeAll(async () => {
  pki = await createTestPki();
  leaf = await pki.issueLeaf();
});

/** Calls the listener as Node would and returns both callback arguments. */
function ask(handler: StapleHandler, certificate: Uint8Array, issuer: Uint8Array | null): Promise<{ error: Error | null; response: Buffer | null }> {
  return new Promise((resolve) => {
    handler.listener(Buffer.from(certificate), issuer ? Buffer.from(issuer) : null, (error, response) => resolve({ error, response }));
  });
}

function askForLeaf(handler: StapleHandler): Promise<{ error: Error | null; response: Buffer | null }> {
  return ask(handler, leaf.certificate.der, pki.authority.intermediate.certificate.der);
}

function countWatchHandles(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'FSEventWrap').length;
}

describe('createStapleHandler options', () => {
  it('rejects options naming neither dir nor dirs', () => {
    expect(() => createStapleHandler({})).toThrow(StaplerdError);
    expect(() => createStapleHandler({ dir: '/a', dirs: ['/b'] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('rejects an issuers entry that is not a certificate', async () => {
    const dir = await makeStapleDir();
    expect(() => createStapleHandler({ dir, watch: false, issuers: ['not a certificate'] }))
      .toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('createStapleHandler without watching', () => {
  it('loads staples from several directories, recursively', async () => {
    const first = await makeStapleDir();
    const second = await makeStapleDir();
    await mkdir(path.join(second, 'live', 'site'), { recursive: true });
    const staple = await signStaple(pki.authority, leaf, { thisUpdate: new Date(Date.now() - HOUR_MS), nextUpdate: new Date(Date.now() + 24 * HOUR_MS) });
    await writeFile(path.join(first, 'a.pem.ocsp'), staple);
    await writeFile(path.join(second, 'live', 'site', 'fullchain.pem.ocsp'), staple);
    await writeFile(path.join(second, 'fullchain.pem'), 'not a staple, not read');
    const handler = createStapleHandler({ dirs: [first, second], watch: false, onError: () => undefined });
    await handler.ready;

    expect(handler.size).toBe(2);
    expect((await askForLeaf(handler)).response).toEqual(staple);
  });

  it('does not descend into subdirectories with recursive: false', async () => {
    const dir = await makeStapleDir();
    await mkdir(path.join(dir, 'sub'));
    await writeFile(path.join(dir, 'sub', 'a.pem.ocsp'), await signStaple(pki.authority, leaf, { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + HOUR_MS) }));
    const handler = createStapleHandler({ dir, recursive: false, watch: false });
    await handler.ready;

    expect(handler.size).toBe(0);
  });

  it('sees a replaced staple after reload()', async () => {
    const dir = await makeStapleDir();
    const file = path.join(dir, 'example.pem.ocsp');
    const first = await signStaple(pki.authority, leaf, { thisUpdate: new Date(Date.now() - HOUR_MS), nextUpdate: new Date(Date.now() + 24 * HOUR_MS) });
    const second = await signStaple(pki.authority, leaf, { thisUpdate: new Date(Date.now() - HOUR_MS), nextUpdate: new Date(Date.now() + 48 * HOUR_MS) });
    await writeFile(file, first);
    const handler = createStapleHandler({ dir, watch: false });
    await handler.ready;
    expect((await askForLeaf(handler)).response).toEqual(first);

    await replaceFile(file, second);
    await handler.reload();

    expect((await askForLeaf(handler)).response).toEqual(second);
  });

  it('forgets a staple whose file was removed', async () => {
    const dir = await makeStapleDir();
    const file = path.join(dir, 'example.pem.ocsp');
    await writeFile(file, await signStaple(pki.authority, leaf, { thisUpdate: new Date(Date.now() - HOUR_MS), nextUpdate: new Date(Date.now() + 24 * HOUR_MS) }));
    const handler = createStapleHandler({ dir, watch: false });
    await handler.ready;

    await rm(file);
    await handler.reload();

    expect(handler.size).toBe(0);
    expect((await askForLeaf(handler)).response).toBeNull();
  });

  it('starts serving a not-yet-valid staple when the injected clock reaches its thisUpdate', async () => {
    const dir = await makeStapleDir();
    const now = new Date();
    const thisUpdate = new Date(now.getTime() + 2 * HOUR_MS);
    const staple = await signStaple(pki.authority, leaf, { thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + 24 * HOUR_MS) });
    await writeFile(path.join(dir, 'example.pem.ocsp'), staple);
    const clock = createTestClock(now);
    const errors: StaplerdError[] = [];
    const handler = createStapleHandler({ dir, watch: false, clock, onError: (error) => errors.push(error) });
    await handler.ready;

    const early = await askForLeaf(handler);
    clock.set(new Date(thisUpdate.getTime() + HOUR_MS));
    const later = await askForLeaf(handler);

    expect(early.response).toBeNull();
    expect(later.response).toEqual(staple);
    expect(errors.map((error) => error.code)).toEqual(['RESPONSE_NOT_YET_VALID']);
  });
});

describe('createStapleHandler on bad input', () => {
  it('reports a malformed staple file and still serves the good one beside it', async () => {
    const dir = await makeStapleDir();
    const staple = await signStaple(pki.authority, leaf, { thisUpdate: new Date(Date.now() - HOUR_MS), nextUpdate: new Date(Date.now() + 24 * HOUR_MS) });
    await writeFile(path.join(dir, 'good.pem.ocsp'), staple);
    await writeFile(path.join(dir, 'broken.pem.ocsp'), staple.subarray(0, 40));
    const errors: StaplerdError[] = [];
    const handler = createStapleHandler({ dir, watch: false, onError: (error) => errors.push(error) });
    await handler.ready;
    await handler.reload();

    expect((await askForLeaf(handler)).response).toEqual(staple);
    // Reported once, although the directory was scanned twice.
    expect(errors.map((error) => [error.code, path.basename(error.file ?? '')])).toEqual([['RESPONSE_MALFORMED', 'broken.pem.ocsp']]);
  });

  it('answers (null, null) to a certificate that does not parse, never an error', async () => {
    const dir = await makeStapleDir();
    const errors: StaplerdError[] = [];
    const handler = createStapleHandler({ dir, watch: false, onError: (error) => errors.push(error) });
    await handler.ready;

    const answer = await ask(handler, new TextEncoder().encode('junk'), null);

    expect(answer).toEqual({ error: null, response: null });
    expect(errors.map((error) => error.code)).toEqual(['CERT_PARSE_FAILED']);
  });

  it('answers (null, null) when onError itself throws', async () => {
    const dir = await makeStapleDir();
    const handler = createStapleHandler({ dir, watch: false, onError: () => { throw new Error('logger down'); } });
    await handler.ready;

    const answer = await ask(handler, new TextEncoder().encode('junk'), null);

    expect(answer).toEqual({ error: null, response: null });
  });

  it('reports a directory that does not exist and loads it once it does', async () => {
    const dir = path.join(await makeStapleDir(), 'created-later');
    const errors: StaplerdError[] = [];
    const handler = createStapleHandler({ dir, watch: false, onError: (error) => errors.push(error) });
    await handler.ready;
    expect(errors.map((error) => error.code)).toEqual(['DIRECTORY_UNREADABLE']);

    await mkdir(dir);
    await writeFile(path.join(dir, 'example.pem.ocsp'), await signStaple(pki.authority, leaf, { thisUpdate: new Date(Date.now() - HOUR_MS), nextUpdate: new Date(Date.now() + 24 * HOUR_MS) }));
    await handler.reload();

    expect(handler.size).toBe(1);
  });
});

describe('createStapleHandler close()', () => {
  it('releases every directory watcher it opened', async () => {
    const dir = await makeStapleDir();
    await mkdir(path.join(dir, 'live', 'a'), { recursive: true });
    const before = countWatchHandles();
    const handler = createStapleHandler({ dir });
    await handler.ready;
    // The root, live/ and live/a/.
    expect(countWatchHandles()).toBe(before + 3);

    await handler.close();

    // libuv closes handles on a later loop turn: poll for it.
    await waitFor(async () => countWatchHandles(), (count) => count === before);
    expect(countWatchHandles()).toBe(before);
  });

  it('keeps answering from memory after close()', async () => {
    const dir = await makeStapleDir();
    const staple = await signStaple(pki.authority, leaf, { thisUpdate: new Date(Date.now() - HOUR_MS), nextUpdate: new Date(Date.now() + 24 * HOUR_MS) });
    await writeFile(path.join(dir, 'example.pem.ocsp'), staple);
    const handler = createStapleHandler({ dir });
    await handler.ready;

    await handler.close();

    expect((await askForLeaf(handler)).response).toEqual(staple);
  });
});
