// A loopback-only network namespace that stays up while a test runs, so several processes (OpenSSL's responder,
// redis-server, staplerd hosts) can share it: created by `unshare -n`, entered with `nsenter --net=`.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface NetworkNamespace {
  /** A process whose namespace is the test's: its /proc/<pid>/net/tcp lists the namespace's sockets. */
  readonly holderPid: number;
  /** Spawns `command args` inside the namespace (nsenter execs it: the child's pid is the command's). */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside the namespace to completion. */
  run(command: string, args: readonly string[], timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/** Why no namespace can be made here (not root, no unshare or nsenter), or undefined when it can. */
export function missingNamespaceReason(): string | undefined {
  for (const tool of ['unshare', 'nsenter', 'ip']) {
    if (spawnSync('which', [tool]).status !== 0) return `${tool} not found (Debian packages util-linux, iproute2)`;
  }
  const probe = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `"unshare -n" is not permitted here: ${probe.error?.message ?? probe.stderr.trim()}`;
  return undefined;
}

export async function createNetworkNamespace(): Promise<NetworkNamespace> {
  // unshare and bash exec in place, so the pid spawned is the `sleep` that holds the namespace open.
  const holder = spawn('unshare', ['-n', 'bash', '-c', 'ip link set lo up && echo ready && exec sleep infinity'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    holder.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    holder.stdout!.on('data', (chunk: Buffer) => (chunk.toString().includes('ready') ? resolve() : undefined));
    holder.once('exit', (code) => reject(new Error(`namespace holder exited (${String(code)}): ${stderr}`)));
  });
  const netPath = `/proc/${holder.pid!}/ns/net`;
  const enter = (command: string, args: readonly string[]): string[] => [`--net=${netPath}`, '--', command, ...args];
  const namespace: NetworkNamespace = {
    holderPid: holder.pid!,
    spawn: (command, args, options = {}) => spawn('nsenter', enter(command, args), options),
    run(command, args, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const child = spawn('nsenter', enter(command, args), { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    },
    async close() {
      if (holder.exitCode !== null || holder.signalCode !== null) return;
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
    },
  };
  return namespace;
}

/** True once a socket listens on the port in the namespace of `pid` (state 0A in /proc/<pid>/net/tcp), checked
 *  without connecting: OpenSSL 3.0's responder spins after a connection that sends nothing. */
export function isListeningIn(pid: number, port: number): boolean {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const probe = spawnSync('cat', [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`], { encoding: 'utf8' });
  return probe.stdout.split('\n').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1]?.endsWith(portHex) === true && fields[3] === '0A';
  });
}
