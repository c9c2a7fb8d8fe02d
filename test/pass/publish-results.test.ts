// Publishing a pass's staples to HAProxy: pushes that fail are owed through the state directory, shared with every
// other staplerd process that uses it.
import { describe, it, expect } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { DEFAULT_CONFIG, type StaplerdConfig } from '../../src/config/index.js';
import { createMemoryLogger } from '../../src/log/index.js';
import type { ValidatedResponse } from '../../src/pki/types.js';
import { createPublishState, publishPassResults, type PassDependencies, type PassReport, type TargetOutcome } from '../../src/pass/index.js';
import { createHaproxyServer, loadPendingPushes } from '../../src/servers/haproxy/index.js';
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

  it('asks a socket that did not answer in time only once per pass, and owes every staple to it', async () => {
    const dir = await makeTempDir('staplerd-publish-');
    dirs.push(dir);
    // Accepts and says nothing: each push would wait the whole timeout.
    const connections: Socket[] = [];
    const listener = createServer((socket) => void connections.push(socket.on('error', () => {})));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const socket = `127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const certs = ['a', 'b', 'c'].map((name) => path.join(dir, `${name}.pem`));
    const report = { outcomes: certs.flatMap((cert) => reportWriting(cert).outcomes) } as unknown as PassReport;
    const config: StaplerdConfig = { ...DEFAULT_CONFIG, stateDir: path.join(dir, 'state'), haproxySockets: [socket], issuerFiles: false, timeoutMs: 300 };
    const logger = createMemoryLogger();
    const haproxy = createHaproxyServer();
    const state = createPublishState([haproxy]);

    try {
      await publishPassResults(report, config, { logger } as unknown as PassDependencies, state);
    } finally {
      for (const connection of connections) connection.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }

    expect(connections).toHaveLength(1);
    expect(logger.events.filter((e) => e.event === 'haproxy.push_failed').map((e) => e.fields.code)).toEqual(['HAPROXY_TIMEOUT', 'HAPROXY_TIMEOUT', 'HAPROXY_TIMEOUT']);
    expect([...haproxy.pendingPushes].sort()).toEqual(certs.map((cert) => `${cert}.ocsp`).sort());
  });
});
