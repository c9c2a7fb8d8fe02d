// Publishing a pass's staples to HAProxy: pushes that fail are owed through the state directory, shared with every
// other staplerd process that uses it.
import { describe, it, expect } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG, type StaplerdConfig } from '../../src/config/index.js';
import { createMemoryLogger } from '../../src/log/index.js';
import type { ValidatedResponse } from '../../src/pki/types.js';
import { createPublishState, publishPassResults, type PassDependencies, type PassReport, type TargetOutcome } from '../../src/scheduler/index.js';
import { loadPendingPushes } from '../../src/state/index.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();

/** A pass that (re)wrote one staple for `certFile`: what publishing pushes to HAProxy. */
function reportWriting(certFile: string): PassReport {
  const stapleFile = `${certFile}.ocsp`;
  const staple = { der: new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x00]) } as unknown as ValidatedResponse;
  const outcome = {
    kind: 'written',
    certFiles: [certFile],
    stapleFiles: [stapleFile],
    changedFiles: [stapleFile],
    files: [{ certFile, stapleFile, staple, changed: true }],
  } as unknown as TargetOutcome;
  return { outcomes: [outcome] } as unknown as PassReport;
}

describe('publishPassResults', () => {
  it('keeps the pushes another process owes when this one saves its own (daemon and once on one state dir)', async () => {
    const dir = await makeTempDir('staplerd-publish-');
    dirs.push(dir);
    const stateDir = path.join(dir, 'state');
    const [daemonCert, onceCert] = [path.join(dir, 'daemon.pem'), path.join(dir, 'once.pem')];
    await Promise.all([daemonCert, onceCert].map((cert) => writeFile(`${cert}.ocsp`, 'staple')));
    // Nothing listens here: every push fails (ENOENT) at once.
    const config: StaplerdConfig = { ...DEFAULT_CONFIG, stateDir, haproxySockets: [path.join(dir, 'no-such.sock')], issuerFiles: false };
    const deps = { logger: createMemoryLogger() } as unknown as PassDependencies;
    const daemon = createPublishState();
    const once = createPublishState();

    // The daemon has published a pass (and read the state dir) before the `once` runs.
    await publishPassResults({ outcomes: [] } as unknown as PassReport, config, deps, daemon);
    await publishPassResults(reportWriting(onceCert), config, deps, once);
    await publishPassResults(reportWriting(daemonCert), config, deps, daemon);

    expect([...(await loadPendingPushes(stateDir))].sort()).toEqual([`${daemonCert}.ocsp`, `${onceCert}.ocsp`].sort());
  });
});
