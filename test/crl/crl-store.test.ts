// The kept-CRL store: the CRL number floor is saved with the metadata, and a floor of a shape pki/ never writes is refused.
import { describe, expect, it } from '@jest/globals';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createCrlStore } from '../../src/crl/index.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();
const URL = 'http://127.0.0.1:9/ca.crl';
const CHECKED_AT = new Date('2031-03-01T12:00:00Z');

async function metaFile(stateDir: string): Promise<string> {
  const [name] = (await readdir(path.join(stateDir, 'crl'))).filter((entry) => entry.endsWith('.json'));
  return path.join(stateDir, 'crl', name!);
}

describe('createCrlStore', () => {
  it('keeps the CRL number floor in the metadata, readable without the DER', async () => {
    const stateDir = await makeTempDir('staplerd-crl-store-');
    dirs.push(stateDir);
    const store = createCrlStore(stateDir, 1024);
    await store.saveMeta({ url: URL, checkedAt: CHECKED_AT, crlNumberFloorHex: '0a' });

    expect(await store.loadDer(URL)).toBeUndefined();
    expect(await store.loadMeta(URL)).toMatchObject({ url: URL, checkedAt: CHECKED_AT, crlNumberFloorHex: '0a' });
  });

  it.each(['ff'.repeat(40), '000a', 'A0', '1', 42])('refuses a floor of %p as STATE_CORRUPT', async (floor) => {
    const stateDir = await makeTempDir('staplerd-crl-store-');
    dirs.push(stateDir);
    const store = createCrlStore(stateDir, 1024);
    await store.saveMeta({ url: URL, checkedAt: CHECKED_AT });
    const file = await metaFile(stateDir);
    const fields = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...fields, crlNumberFloorHex: floor }));

    await expect(store.loadMeta(URL)).rejects.toMatchObject({ code: 'STATE_CORRUPT', file });
  });
});
