// Owed HAProxy pushes in the state directory: each process applies only its own changes to the file as it is now.
import { describe, it, expect } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadPendingPushes, updatePendingPushes } from '../../../src/servers/haproxy/pending-pushes.js';
import { makeTempDir, removeTempDirsAfterAll } from '../../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();

async function stateWithStaples(...names: string[]): Promise<{ stateDir: string; staples: string[] }> {
  const stateDir = await makeTempDir('staplerd-pending-');
  dirs.push(stateDir);
  const staples = names.map((name) => path.join(stateDir, `${name}.pem.ocsp`));
  await Promise.all(staples.map((staple) => writeFile(staple, 'staple')));
  return { stateDir, staples };
}

describe('updatePendingPushes', () => {
  it('keeps what another process owes when this one saves (no last-writer-wins)', async () => {
    const { stateDir, staples: [a, b] } = await stateWithStaples('a', 'b');
    // Both processes start from an empty list; the daemon's push of a fails, then a `once` fails to push b.
    await updatePendingPushes(stateDir, { owed: [a!], delivered: [] });
    await updatePendingPushes(stateDir, { owed: [b!], delivered: [] });
    expect([...(await loadPendingPushes(stateDir))].sort()).toEqual([a, b].sort());
  });

  it('removes only what this process delivered', async () => {
    const { stateDir, staples: [a, b] } = await stateWithStaples('a', 'b');
    await updatePendingPushes(stateDir, { owed: [a!, b!], delivered: [] });
    expect([...(await updatePendingPushes(stateDir, { owed: [], delivered: [a!] }))]).toEqual([b]);
    expect([...(await loadPendingPushes(stateDir))]).toEqual([b]);
  });

  it('drops staples that no longer exist: nothing is left to push', async () => {
    const { stateDir, staples: [a] } = await stateWithStaples('a');
    const gone = path.join(stateDir, 'gone.pem.ocsp');
    expect([...(await updatePendingPushes(stateDir, { owed: [a!, gone], delivered: [] }))]).toEqual([a]);
  });
});
