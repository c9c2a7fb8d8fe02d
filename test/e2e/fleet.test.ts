// Fleet mode through the real CLI (issue 11): staplerd hosts sharing a real redis-server, fetching from OpenSSL's own
// responder, all inside one loopback-only network namespace. The responder's request log is the proof of "one fetch".
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IssuedIdentity } from '../../src/demo/demo-pki.js';
import { createNetworkNamespace, isListeningIn, missingNamespaceReason, type NetworkNamespace } from '../helpers/network-namespace.js';
import { verifyStapleWithOpenssl, writeOpensslResponderFiles, type OpensslResponderFiles } from '../helpers/openssl-responder.js';
import { describeIfAvailable } from '../helpers/describe-if-available.js';
import { missingRedisReason, startRedisServer, type RunningRedis } from '../helpers/redis-server.js';
import { CLI_PATH } from '../helpers/run-cli.js';
import { createTestPki, exists, makeTempDir, removeTempDir, type TestPki } from '../helpers/test-pki.js';

const RESPONDER_PORT = 28961;
const REDIS_PORT = 28962;
/** No server listens here in the namespace: "Redis absent". */
const ABSENT_REDIS_PORT = 28963;
const METRICS_PORT = 28964;
const BLACK_HOLE_PORT = 28965;
const TLS_REDIS_PORT = 28966;
const RESPONDER_URL = `http://127.0.0.1:${RESPONDER_PORT}/`;
/** --timeout 2 gives a 9 s lease (fleet/create-fleet.ts: 2 x timeout + 5 s). */
const TIMEOUT_SECONDS = 2;
const LEASE_MS = 2 * TIMEOUT_SECONDS * 1000 + 5_000;
const BASE_LEAVES = 3;

interface Host {
  readonly name: string;
  readonly certsDir: string;
  readonly stateDir: string;
  readonly certFiles: string[];
}

interface Finished {
  readonly code: number | null;
  readonly output: string;
}

function describeFleet(): void {
  let workDir: string;
  let pki: TestPki;
  let ns: NetworkNamespace;
  let redis: RunningRedis;
  let responder: ChildProcess;
  let responderFiles: OpensslResponderFiles;
  let caFiles: { rootFile: string; intermediateFile: string };
  let leaves: IssuedIdentity[];
  const hosts: Host[] = [];
  const daemons = new Set<ChildProcess>();

  beforeAll(async () => {
    workDir = await makeTempDir('staplerd-fleet-');
    pki = await createTestPki();
    caFiles = await pki.writeCaFiles(workDir);
    // Two extra leaves join a running host later (Redis outage test).
    leaves = await Promise.all([0, 1, 2, 3, 4].map((i) => pki.issueLeaf({ commonName: `fleet${i}.test`, ocspUrls: [RESPONDER_URL] })));
    const responderDir = path.join(workDir, 'responder');
    await mkdir(responderDir);
    const { intermediate } = pki.authority;
    responderFiles = await writeOpensslResponderFiles(responderDir, { ca: intermediate, signer: intermediate, entries: leaves.map((leaf) => ({ certificate: leaf.certificate })) });
    ns = await createNetworkNamespace();
    const log = createWriteStream(responderFiles.logFile, { flags: 'a' });
    const { indexFile, signerCertFile, signerKeyFile, caFile } = responderFiles;
    responder = ns.spawn('openssl', ['ocsp', '-index', indexFile, '-port', String(RESPONDER_PORT), '-rsigner', signerCertFile, '-rkey', signerKeyFile, '-CA', caFile, '-nmin', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
    responder.stdout!.pipe(log);
    responder.stderr!.pipe(log);
    for (let i = 0; !isListeningIn(ns.holderPid, RESPONDER_PORT); i++) {
      if (i > 200) throw new Error('openssl ocsp did not listen');
      await sleep(50);
    }
    const redisDir = path.join(workDir, 'redis');
    await mkdir(redisDir);
    redis = await startRedisServer(ns, { dir: redisDir, port: REDIS_PORT });
  }, 60_000);

  afterAll(async () => {
    for (const daemon of daemons) daemon.kill('SIGKILL');
    await redis?.stop();
    responder?.kill('SIGCONT');
    responder?.kill('SIGKILL');
    await ns?.close();
    if (workDir) await removeTempDir(workDir);
  });

  async function makeHost(leafCount = BASE_LEAVES): Promise<Host> {
    // Named and listed before the first await: hosts made side by side (Promise.all) get distinct directories.
    const name = `host${hosts.length}`;
    const host: Host = { name, certsDir: path.join(workDir, name, 'certs'), stateDir: path.join(workDir, name, 'state'), certFiles: [] };
    hosts.push(host);
    await mkdir(host.certsDir, { recursive: true });
    await mkdir(host.stateDir, { recursive: true });
    for (const [i, leaf] of leaves.slice(0, leafCount).entries()) host.certFiles.push((await pki.writeLeaf(host.certsDir, leaf, 'fullchain', `leaf${i}`)).certFile);
    return host;
  }

  function hostArgs(command: 'once' | 'run', host: Host, fleetUrl = redis.url): string[] {
    return [CLI_PATH, command, '--certs', host.certsDir, '--state-dir', host.stateDir, '--fleet', fleetUrl, '--timeout', String(TIMEOUT_SECONDS), '--log-level', 'debug'];
  }

  function spawnHost(command: 'once' | 'run', host: Host, fleetUrl?: string, extra: readonly string[] = []): { child: ChildProcess; output: () => string; done: Promise<Finished> } {
    const child = ns.spawn(process.execPath, [...hostArgs(command, host, fleetUrl), ...extra], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    daemons.add(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const done = new Promise<Finished>((resolve) =>
      child.on('close', (code) => {
        daemons.delete(child);
        resolve({ code, output });
      }),
    );
    return { child, output: () => output, done };
  }

  async function runOnce(host: Host, fleetUrl?: string): Promise<Finished> {
    return spawnHost('once', host, fleetUrl).done;
  }

  async function requestCount(): Promise<number> {
    return (await readFile(responderFiles.logFile, 'utf8')).split('\n').filter((line) => line.includes('Received request')).length;
  }

  async function staples(host: Host): Promise<Buffer[]> {
    return Promise.all(host.certFiles.map((file) => readFile(`${file}.ocsp`)));
  }

  async function expectValidStaples(host: Host): Promise<void> {
    for (const [i, certFile] of host.certFiles.entries()) {
      const leafFile = path.join(workDir, `${host.name}-leaf${i}.pem`);
      await writeFile(leafFile, leaves[i]!.certificate.toPem());
      const verdict = await verifyStapleWithOpenssl(`${certFile}.ocsp`, { ...caFiles, certFile: leafFile });
      expect({ file: certFile, verified: verdict.verified, status: verdict.status }).toEqual({ file: certFile, verified: true, status: 'good' });
    }
  }

  async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }

  interface StatusView {
    source: string;
    fleet?: { connected: boolean; leasesWon: number; sharedHits: number; errors: number };
    certificates: { source?: string }[];
  }

  async function statusJson(host: Host): Promise<StatusView> {
    const result = await ns.run(process.execPath, [CLI_PATH, 'status', '--json', '--certs', host.certsDir, '--state-dir', host.stateDir, '--fleet', redis.url]);
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as StatusView;
  }

  async function scrape(port: number): Promise<string> {
    const script = `fetch('http://127.0.0.1:${port}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
    return (await ns.run(process.execPath, ['-e', script])).stdout;
  }

  async function stapleKeys(): Promise<string[]> {
    return (await redis.cli(['--raw', 'KEYS', 'staplerd:staple:*'])).split('\n').filter((key) => key !== '');
  }

  it('three daemons started together make exactly one request per certificate and hold byte-identical valid staples', async () => {
    const fleet = await Promise.all([makeHost(), makeHost(), makeHost()]);
    const before = await requestCount();
    const running = fleet.map((host) => spawnHost('run', host));
    try {
      await waitFor(async () => (await Promise.all(fleet.flatMap((h) => h.certFiles.map((f) => exists(`${f}.ocsp`))))).every(Boolean), 'every host to hold every staple');
      // SIGTERM while the watch is still being set up is another matter (see the report); stop daemons that are ready.
      await waitFor(async () => running.every((daemon) => daemon.output().includes('daemon.ready')), 'the daemons to watch');
      // `status` shows, per certificate, who fetched and who took the fleet's staple, and each daemon's fleet health.
      const views = await Promise.all(fleet.map((host) => statusJson(host)));
      const sources = views.flatMap((view) => view.certificates.map((row) => row.source)).sort();
      expect(sources).toEqual([...Array(BASE_LEAVES).fill('fetched'), ...Array(2 * BASE_LEAVES).fill('fleet')]);
      expect(views.map((view) => view.source)).toEqual(['daemon', 'daemon', 'daemon']);
      expect(views.reduce((sum, view) => sum + view.fleet!.leasesWon, 0)).toBe(BASE_LEAVES);
      expect(views.reduce((sum, view) => sum + view.fleet!.sharedHits, 0)).toBe(2 * BASE_LEAVES);
      expect(views.every((view) => view.fleet!.connected)).toBe(true);
    } finally {
      for (const daemon of running) daemon.child.kill('SIGTERM');
    }
    const exits = await Promise.all(running.map((daemon) => withTimeout(daemon.done, 20_000, () => `a daemon did not stop after SIGTERM:\n${daemon.output()}`)));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);
    expect((await requestCount()) - before).toBe(BASE_LEAVES);
    const [first, ...others] = await Promise.all(fleet.map(staples));
    for (const other of others) expect(other).toEqual(first);
    await expectValidStaples(fleet[0]!);
    expect(await stapleKeys()).toHaveLength(BASE_LEAVES);
  }, 60_000);

  it('a fourth host joining the warm fleet writes every staple with no request', async () => {
    const host = await makeHost();
    const before = await requestCount();
    const result = await runOnce(host);
    expect(result.code).toBe(0);
    expect((await requestCount()) - before).toBe(0);
    expect(await staples(host)).toEqual(await staples(hosts[0]!));
    await expectValidStaples(host);
    expect(result.output).toMatch(/fleet: connected, 0 leases won, 3 shared hits/);
    // From the files (no daemon): every staple came from the fleet.
    expect((await statusJson(host)).certificates.map((row) => row.source)).toEqual(['fleet', 'fleet', 'fleet']);
  }, 30_000);

  it('garbage, a foreign response, a truncated value or a wrong type in Redis is rejected and never written', async () => {
    const keys = await stapleKeys();
    expect(keys).toHaveLength(BASE_LEAVES);
    const values = await Promise.all(keys.map((key) => redis.cli(['--raw', 'HGET', key, 'thisUpdate'])));
    expect(values.every((v) => /^\d+$/.test(v))).toBe(true);
    // Garbage, another certificate's valid response, a truncated response: each key gets one, in turn.
    const hostStaples = await staples(hosts[0]!);
    await redis.cli(['HSET', keys[0]!, 'der', 'not an OCSP response at all']);
    await redis.cli(['EVAL', "redis.call('HSET', KEYS[1], 'der', redis.call('HGET', KEYS[2], 'der')) return 1", '2', keys[1]!, keys[2]!]);
    await redis.cli(['EVAL', "local d = redis.call('HGET', KEYS[1], 'der') redis.call('HSET', KEYS[1], 'der', string.sub(d, 1, #d - 10)) return 1", '1', keys[2]!]);
    const host = await makeHost();
    const before = await requestCount();
    const result = await runOnce(host);
    expect(result.code).toBe(0);
    expect(result.output.match(/FLEET_VALUE_REJECTED/g)?.length ?? 0).toBeGreaterThanOrEqual(BASE_LEAVES);
    expect((await requestCount()) - before).toBe(BASE_LEAVES);
    await expectValidStaples(host);
    // The host that fetched put valid values back (replacing what it had rejected).
    for (const key of keys) expect(await redis.cli(['--raw', 'TYPE', key])).toBe('hash');
    // A key of the wrong type is rejected too; the earlier hosts' staples are untouched throughout.
    await redis.cli(['SET', keys[0]!, 'a string, not a hash']);
    const next = await makeHost();
    const again = await runOnce(next);
    expect(again.code).toBe(0);
    expect(again.output).toMatch(/wrong-type/);
    await expectValidStaples(next);
    expect(await staples(hosts[0]!)).toEqual(hostStaples);
  }, 60_000);

  it('a lease holder killed with SIGKILL mid-fetch is taken over by another host within the lease time', async () => {
    for (const key of await stapleKeys()) await redis.cli(['DEL', key]);
    // The doomed holder asks a responder that accepts and never answers (--responder: the leases are per CertID, the
    // same whatever URL is asked), so it is surely mid-fetch when killed. Stopping OpenSSL's responder instead is
    // fragile: OpenSSL 3.0 spins for ever on a connection closed before its request arrived.
    const blackHole = ns.spawn(process.execPath, ['-e', `require('node:net').createServer(() => {}).listen(${BLACK_HOLE_PORT}, '127.0.0.1')`], { stdio: 'ignore' });
    const doomed = await makeHost();
    try {
      await waitFor(async () => isListeningIn(ns.holderPid, BLACK_HOLE_PORT), 'the silent responder to listen', 10_000);
      const holder = spawnHost('once', doomed, undefined, ['--responder', `http://127.0.0.1:${BLACK_HOLE_PORT}/`]);
      await waitFor(async () => (await redis.cli(['--raw', 'KEYS', 'staplerd:lease:*'])).split('\n').filter(Boolean).length === BASE_LEAVES, 'the holder to take every lease', 15_000);
      holder.child.kill('SIGKILL');
      await holder.done;
    } finally {
      blackHole.kill('SIGKILL');
    }
    const heir = await makeHost();
    const startedAt = Date.now();
    const result = await runOnce(heir);
    const tookMs = Date.now() - startedAt;
    expect(result.code).toBe(0);
    await expectValidStaples(heir);
    // It waited for the dead holder's leases to expire, then fetched itself: not much longer than one lease.
    expect(tookMs).toBeLessThan(LEASE_MS + 10_000);
    expect(await stapleKeys()).toHaveLength(BASE_LEAVES);
  }, 60_000);

  it('Redis stopped mid-run and restarted: the daemon carries on alone, loses nothing, and shares again', async () => {
    const host = await makeHost();
    const daemon = spawnHost('run', host, undefined, ['--metrics', `127.0.0.1:${METRICS_PORT}`]);
    try {
      await waitFor(async () => (await Promise.all(host.certFiles.map((f) => exists(`${f}.ocsp`)))).every(Boolean), 'the first staples');
      await waitFor(async () => daemon.output().includes('daemon.ready'), 'the daemon to watch');
      const kept = await staples(host);
      await redis.stop();
      // A certificate arriving during the outage is fetched by this host alone.
      const during = (await pki.writeLeaf(host.certsDir, leaves[3]!, 'fullchain', 'leaf3')).certFile;
      host.certFiles.push(during);
      await waitFor(() => exists(`${during}.ocsp`), 'a staple fetched alone during the outage');
      expect(daemon.output()).toMatch(/FLEET_UNAVAILABLE/);
      expect((await staples(host)).slice(0, BASE_LEAVES)).toEqual(kept);
      await redis.restart();
      await waitFor(async () => daemon.output().includes('fleet.reconnected'), 'the daemon to rejoin', 20_000);
      const after = (await pki.writeLeaf(host.certsDir, leaves[4]!, 'fullchain', 'leaf4')).certFile;
      host.certFiles.push(after);
      await waitFor(() => exists(`${after}.ocsp`), 'a staple after Redis returned');
      // Shared again: the new staple was published to the restarted (empty) Redis.
      await waitFor(async () => (await stapleKeys()).length >= 1, 'a shared staple in the restarted Redis', 10_000);
      expect(daemon.output().match(/FLEET_UNAVAILABLE/g)).toHaveLength(1);
      const metrics = await scrape(METRICS_PORT);
      expect(metrics).toMatch(/^staplerd_fleet_connected 1$/m);
      expect(metrics).toMatch(/^staplerd_fleet_errors_total [1-9]/m);
      expect(metrics).toMatch(/^staplerd_staple_source\{path="[^"]*leaf4\.pem",serial="[0-9a-f]+",source="fetched"\} 1$/m);
    } finally {
      daemon.child.kill('SIGTERM');
    }
    expect((await daemon.done).code).toBe(0);
    await expectValidStaples(host);
  }, 90_000);

  it('Redis absent at start: hosts work alone and exit 0', async () => {
    const host = await makeHost();
    const result = await runOnce(host, `redis://127.0.0.1:${ABSENT_REDIS_PORT}`);
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/FLEET_UNAVAILABLE/);
    await expectValidStaples(host);
  }, 30_000);

  it('status without a daemon says whether the fleet\'s Redis answers: reachable, or not (exit 0 either way)', async () => {
    const host = await makeHost();
    const status = (url: string, json: boolean) =>
      ns.run(process.execPath, [CLI_PATH, 'status', ...(json ? ['--json'] : []), '--certs', host.certsDir, '--state-dir', host.stateDir, '--fleet', url]);
    const [up, upJson, down] = await Promise.all([status(redis.url, false), status(redis.url, true), status(`redis://127.0.0.1:${ABSENT_REDIS_PORT}`, false)]);
    expect({ code: up.code, line: up.stdout.split('\n')[1] }).toEqual({ code: 0, line: 'fleet: Redis reachable (checked now; counters need a running daemon)' });
    expect(JSON.parse(upJson.stdout)).toMatchObject({ source: 'files', fleet: { connected: true } });
    expect({ code: down.code, line: down.stdout.split('\n')[1] }).toEqual({ code: 0, line: 'fleet: Redis NOT reachable (hosts would fetch alone) (checked now; counters need a running daemon)' });
  }, 30_000);

  // rediss:// with a private CA (--fleet-ca-file): a second Redis, TLS only, whose certificate the test PKI issued for
  // 127.0.0.1 (IP SAN), so Node's hostname check runs against the URL's address.
  describe('over TLS (rediss://) with --fleet-ca-file', () => {
    let tlsRedis: RunningRedis;
    let otherCaFile: string;

    beforeAll(async () => {
      const tlsDir = path.join(workDir, 'redis-tls');
      await mkdir(tlsDir);
      const serverLeaf = await pki.issueLeaf({ commonName: 'redis.test', ipAddresses: ['127.0.0.1'], ocspUrls: [] });
      const { certFile, files } = await pki.writeLeaf(tlsDir, serverLeaf, 'fullchain', 'redis');
      tlsRedis = await startRedisServer(ns, { dir: tlsDir, port: TLS_REDIS_PORT, tls: { certFile, keyFile: files[1]!, caFile: caFiles.rootFile } });
      const otherDir = path.join(workDir, 'other-ca');
      await mkdir(otherDir);
      otherCaFile = (await (await createTestPki()).writeCaFiles(otherDir)).rootFile;
    }, 30_000);

    afterAll(async () => {
      await tlsRedis?.stop();
    });

    function runOnceTls(host: Host, caFile: string, fleetUrl = tlsRedis.url): Promise<Finished> {
      return spawnHost('once', host, fleetUrl, ['--fleet-ca-file', caFile]).done;
    }

    it('two hosts trusting the test CA share staples over TLS: the second makes no request', async () => {
      expect(tlsRedis.url).toBe(`rediss://127.0.0.1:${TLS_REDIS_PORT}`);
      const [first, second] = [await makeHost(), await makeHost()];
      const before = await requestCount();
      const fetched = await runOnceTls(first, caFiles.rootFile);
      expect(fetched.code).toBe(0);
      expect(fetched.output).toMatch(/fleet: connected, 3 leases won, 0 shared hits/);
      expect((await requestCount()) - before).toBe(BASE_LEAVES);
      // The staples are in the TLS Redis (read back through redis-cli --tls).
      expect((await tlsRedis.cli(['--raw', 'KEYS', 'staplerd:staple:*'])).split('\n').filter(Boolean)).toHaveLength(BASE_LEAVES);
      const shared = await runOnceTls(second, caFiles.rootFile);
      expect(shared.code).toBe(0);
      expect(shared.output).toMatch(/fleet: connected, 0 leases won, 3 shared hits/);
      expect((await requestCount()) - before).toBe(BASE_LEAVES);
      expect(await staples(second)).toEqual(await staples(first));
      await expectValidStaples(second);
    }, 60_000);

    it('a Redis certificate not from the --fleet-ca-file CA is refused: the host fetches alone and exits 0', async () => {
      const host = await makeHost();
      const before = await requestCount();
      const result = await runOnceTls(host, otherCaFile);
      expect(result.code).toBe(0);
      expect(result.output).toMatch(/FLEET_UNAVAILABLE/);
      // The log says why: the chain does not verify against the CA given (Node: "unable to get local issuer certificate").
      expect(result.output).toMatch(/fleet Redis unavailable \([^)]*certificate[^)]*\)/);
      expect(result.output).not.toMatch(/fleet: connected/);
      expect((await requestCount()) - before).toBe(BASE_LEAVES);
      await expectValidStaples(host);
    }, 30_000);

    it('without --fleet-ca-file the private CA is not trusted (system CAs): the host works alone', async () => {
      const host = await makeHost();
      const result = await spawnHost('once', host, tlsRedis.url).done;
      expect(result.code).toBe(0);
      expect(result.output).toMatch(/fleet Redis unavailable \([^)]*certificate[^)]*\)/);
      await expectValidStaples(host);
    }, 30_000);

    it('--fleet-ca-file with a plain redis:// URL is refused at start (exit 2), naming the option', async () => {
      const host = await makeHost();
      const before = await requestCount();
      const result = await runOnceTls(host, caFiles.rootFile, redis.url);
      expect(result.code).toBe(2);
      expect(result.output).toMatch(/CONFIG_INVALID/);
      expect(result.output).toMatch(/--fleet-ca-file/);
      expect((await requestCount()) - before).toBe(0);
    }, 30_000);
  });
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(describe())), timeoutMs)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describeIfAvailable(
  'fleet mode with a real Redis and OpenSSL responder',
  missingRedisReason() ?? missingNamespaceReason(),
  { what: 'needs redis-server and network namespaces', remedy: 'CI must install it (.ci/run)', skipHint: 'Install redis-server to run these tests.' },
  describeFleet,
);
