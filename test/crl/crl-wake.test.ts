// The CRL instants `run`'s timer waits for: the checker reports when the points a pass looked up are due again, and
// runPass hands that to the daemon in its report. Real `openssl ca -gencrl` CRLs over loopback HTTP.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { createCrlChecker } from '../../src/crl/index.js';
import { createMemoryLogger } from '../../src/log/index.js';
import { createHostLimiter } from '../../src/ocsp/host-limiter.js';
import { createHttpClient } from '../../src/ocsp/http-client.js';
import { runPass, type CrlSlot } from '../../src/pass/index.js';
import { parseCertificateBundle } from '../../src/pki/index.js';
import { describeIfAvailable } from '../helpers/describe-if-available.js';
import { createOpensslCa, startCrlServer, type CrlServer } from '../helpers/openssl-crl-ca.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const opensslMissing = spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed';
const http = createHttpClient({ userAgent: 'staplerd-test' });
let root: string;
let server: CrlServer;

describeIfAvailable('CRL wake-up instants', opensslMissing, { what: 'needs openssl', remedy: 'CI must install it (.ci/run)', skipHint: 'Install openssl to run them.' }, () => {
  beforeAll(async () => {
    root = await makeTempDir('staplerd-crl-wake-');
    server = await startCrlServer();
  });

  afterAll(async () => {
    http.close();
    await server?.close();
    if (root) await removeTempDir(root);
  });

  it('reports four hours after a download of a week-long CRL, five minutes after a failure, and forgets points once taken', async () => {
    const ca = await createOpensslCa(path.join(root, 'checker-ca'));
    server.serve('/good.crl', await ca.generateCrl());
    const issuer = parseCertificateBundle(await readFile(ca.caFile), ca.caFile)[0]!;
    const checker = createCrlChecker({ stateDir: path.join(root, 'checker-state'), maxCrlBytes: 1 << 20, clockSkewMs: 0, logger: createMemoryLogger() });
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const transport = { http, limiter: createHostLimiter({ perHost: 2, global: 4 }), timeoutMs: 5000, maxCrlBytes: 1 << 20, userAgent: 'staplerd-test', now: () => now };

    expect(checker.takeWakeAt()).toBeUndefined();
    await checker.lookup(`${server.baseUrl}/good.crl`, issuer, { now, dryRun: false, transport });
    expect(checker.takeWakeAt()).toEqual(new Date(now.getTime() + 4 * HOUR_MS));
    expect(checker.takeWakeAt()).toBeUndefined();

    await checker.lookup(`${server.baseUrl}/missing.crl`, issuer, { now, dryRun: false, transport });
    await checker.lookup(`${server.baseUrl}/good.crl`, issuer, { now, dryRun: false, transport });
    expect(checker.takeWakeAt()).toEqual(new Date(now.getTime() + 5 * MINUTE_MS));
  });

  it('puts the CRL instant in the pass report for a certificate without OCSP, which has no staple instant of its own', async () => {
    const ca = await createOpensslCa(path.join(root, 'pass-ca'));
    const leaf = await ca.issueLeaf('crl-only', [`${server.baseUrl}/pass.crl`]);
    server.serve('/pass.crl', await ca.generateCrl());
    const certs = path.join(root, 'pass-certs');
    await mkdir(certs, { recursive: true });
    spawnSync('cp', [leaf.fullchainFile, path.join(certs, 'fullchain.pem')]);
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const crlSlot: CrlSlot = {};
    const config = { ...DEFAULT_CONFIG, certs: [certs], stateDir: path.join(root, 'pass-state') };
    const deps = { clock: { now: () => now }, random: () => 0.5, logger: createMemoryLogger(), http };

    const report = await runPass({ config, deps, crlSlot });

    expect(report.outcomes.map((o) => [o.crl?.status, o.nextActionAt])).toEqual([['good', undefined]]);
    expect(report.crlWakeAt).toEqual(new Date(now.getTime() + 4 * HOUR_MS));
  });
});
