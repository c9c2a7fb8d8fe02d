// StapleSelector on its own: the full validation runs once per staple version, the time window on every request.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IssuedIdentity } from '../../../src/demo/demo-pki.js';
import { Certificate } from '../../../src/pki/index.js';
import { StapleSelector } from '../../../src/servers/node-tls/select-staple.js';
import { StapleStore } from '../../../src/servers/node-tls/staple-store.js';
import { createTestPki, makeTempDir, removeTempDir, type TestPki } from '../../helpers/test-pki.js';
import { createTestClock, replaceFile, signStaple } from './tls-fixture.js';

const HOUR_MS = 60 * 60 * 1000;

let pki: TestPki;
let leaf: IssuedIdentity;
let dir: string;

beforeAll(async () => {
  pki = await createTestPki();
  leaf = await pki.issueLeaf();
  dir = await makeTempDir('staplerd-select-');
});

afterAll(async () => {
  await removeTempDir(dir);
});

describe('StapleSelector', () => {
  it('checks signatures once per staple version, however many handshakes ask', async () => {
    const now = new Date();
    const file = path.join(dir, 'example.pem.ocsp');
    await writeFile(file, await signStaple(pki.authority, leaf, { thisUpdate: new Date(now.getTime() - HOUR_MS), nextUpdate: new Date(now.getTime() + 24 * HOUR_MS) }));
    const store = new StapleStore({ roots: [dir], recursive: true, onError: () => undefined });
    await store.rescan();
    // A fresh object, so the spy sees only this selector's calls: the issuer's key checks the responder certificate.
    const issuer = Certificate.fromDer(pki.authority.intermediate.certificate.der);
    const verifies = jest.spyOn(issuer, 'verifies');
    const clock = createTestClock(now);
    const selector = new StapleSelector({ source: store, clock, window: { clockSkewMs: 0, minRemainingMs: 0 }, issuers: [issuer], report: () => undefined });

    const first = await selector.select(leaf.certificate.der, null);
    const callsAfterFirst = verifies.mock.calls.length;
    for (let i = 0; i < 4; i += 1) await selector.select(leaf.certificate.der, null);
    const callsAfterMore = verifies.mock.calls.length;
    await replaceFile(file, await signStaple(pki.authority, leaf, { thisUpdate: now, nextUpdate: new Date(now.getTime() + 48 * HOUR_MS) }));
    await store.rescan();
    const replaced = await selector.select(leaf.certificate.der, null);

    expect(first).not.toBeNull();
    expect(callsAfterFirst).toBeGreaterThan(0);
    expect(callsAfterMore).toBe(callsAfterFirst);
    // A new version is a new verdict.
    expect(replaced).not.toEqual(first);
    expect(verifies.mock.calls.length).toBeGreaterThan(callsAfterMore);
  });

  it('serves a staple without nextUpdate from its thisUpdate until a day later, even when first judged too early', async () => {
    const now = new Date();
    const thisUpdate = new Date(Math.floor((now.getTime() + HOUR_MS) / 1000) * 1000);
    const stapleDir = await makeTempDir('staplerd-select-no-next-update-');
    try {
      await writeFile(path.join(stapleDir, 'example.pem.ocsp'), await signStaple(pki.authority, leaf, { thisUpdate, nextUpdate: null }));
      const store = new StapleStore({ roots: [stapleDir], recursive: true, onError: () => undefined });
      await store.rescan();
      const clock = createTestClock(now);
      const window = { clockSkewMs: 0, minRemainingMs: 0 };
      const selector = new StapleSelector({ source: store, clock, window, issuers: [pki.authority.intermediate.certificate], report: () => undefined });

      // Judged first while thisUpdate is still ahead: not served yet, but not condemned either.
      expect(await selector.select(leaf.certificate.der, null)).toBeNull();
      clock.set(new Date(thisUpdate.getTime() + 23 * HOUR_MS));
      expect(await selector.select(leaf.certificate.der, null)).not.toBeNull();
      clock.set(new Date(thisUpdate.getTime() + 24 * HOUR_MS));
      expect(await selector.select(leaf.certificate.der, null)).toBeNull();
    } finally {
      await removeTempDir(stapleDir);
    }
  });
});
