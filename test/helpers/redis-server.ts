// A real redis-server for fleet tests: started on a free port with persistence off and its own temp dir, inside a
// test's network namespace; stopped, paused (SIGSTOP), killed and restarted on the same port. With `tls`, it listens
// for TLS only (`--port 0 --tls-port`, no client certificates) and the URL is rediss://.
import { existsSync } from 'node:fs';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { NetworkNamespace } from './network-namespace.js';

export const REDIS_SERVER_BIN = '/usr/bin/redis-server';
export const REDIS_CLI_BIN = '/usr/bin/redis-cli';

/** Why redis-server cannot run here, or undefined when it can. */
export function missingRedisReason(): string | undefined {
  for (const bin of [REDIS_SERVER_BIN, REDIS_CLI_BIN]) if (!existsSync(bin)) return `${bin} not found (Debian package redis-server)`;
  return undefined;
}

export interface RunningRedis {
  readonly port: number;
  readonly url: string;
  /** redis-cli <args> against this server; its reply as text. */
  cli(args: readonly string[]): Promise<string>;
  /** SIGSTOP: the server keeps its connections but answers nothing (a wedged Redis). */
  pause(): void;
  resume(): void;
  /** Stops the server (SIGKILL by default: no goodbye to clients). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (empty: persistence is off). */
  restart(): Promise<void>;
}

/** Runs commands on loopback in the test's own network namespace, or (undefined) directly on a free loopback port. */
type Launcher = Pick<NetworkNamespace, 'spawn' | 'run'>;

const DIRECT: Launcher = {
  spawn: (command, args, options = {}) => spawn(command, args, options),
  run: (command, args, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      execFile(command, [...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      });
    }),
};

export interface RedisTlsFiles {
  /** The server's certificate chain (leaf first) and its key. */
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA the chain ends at: redis-server needs one configured, and redis-cli verifies the server against it. */
  readonly caFile: string;
}

export async function startRedisServer(where: NetworkNamespace | undefined, options: { dir: string; port: number; tls?: RedisTlsFiles }): Promise<RunningRedis> {
  const namespace: Launcher = where ?? DIRECT;
  const { dir, port, tls } = options;
  let child: ChildProcess | undefined;
  let output = '';
  const cliTls = tls ? ['--tls', '--cacert', tls.caFile] : [];
  const cli = async (args: readonly string[]): Promise<string> => {
    const result = await namespace.run(REDIS_CLI_BIN, ['-h', '127.0.0.1', '-p', String(port), ...cliTls, ...args]);
    return result.stdout.trim();
  };
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const launch = async (): Promise<void> => {
    output = '';
    const server = namespace.spawn(REDIS_SERVER_BIN, [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = server;
    const deadline = Date.now() + 10_000;
    while ((await cli(['ping'])) !== 'PONG') {
      if (server.exitCode !== null) throw new Error(`redis-server exited before answering:\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING within 10 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await launch();
  return {
    port,
    url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    cli,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async stop(signal = 'SIGKILL') {
      const server = child;
      if (!server || server.exitCode !== null || server.signalCode !== null) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGCONT');
      server.kill(signal);
      await exited;
    },
    restart: launch,
  };
}
