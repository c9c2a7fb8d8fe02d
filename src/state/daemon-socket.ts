// The daemon's presence proof: a Unix socket in the state dir that answers "which staplerd instance is this".
//
// Why a socket and not the pid in status.json: a pid stays "alive" after the daemon died once anything else gets it
// (pid reuse after a reboot, a test's child), and `status` then showed that stranger's stale or empty table (issue
// finding 12). Only a running process can accept on a socket; after a crash or SIGKILL the file stays but connect(2)
// is refused. The socket lives in the state dir, which only the daemon's user can write, and works inside systemd's
// sandbox (ProtectProc=invisible, ProcSubset=pid hide /proc from the unit; AF_UNIX is allowed).
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { StaplerdError } from '../errors/index.js';

const SOCKET_FILE = 'daemon.sock';
/** sun_path holds 108 bytes on Linux including the terminating NUL (unix(7)); longer paths cannot be bound. */
const MAX_SOCKET_PATH_BYTES = 107;
/** The answer is one short JSON line; anything longer is not a staplerd daemon. */
const MAX_ANSWER_BYTES = 1024;
/** A client that does not take the answer in this time is dropped (a stuck `status`, or a hostile local process). */
const SERVE_TIMEOUT_MS = 2_000;
/** Enough for any number of operators running `status`; a flood of connections cannot pile up sockets. */
const MAX_CONNECTIONS = 16;
const SERVICE = 'staplerd';

/** What the daemon says about itself; `instanceId` is also in the status snapshot it writes. */
export interface DaemonAnswer {
  readonly pid: number;
  readonly instanceId: string;
}

export interface DaemonSocket {
  readonly path: string;
  close(): Promise<void>;
}

export function daemonSocketPath(stateDir: string): string {
  return path.join(stateDir, SOCKET_FILE);
}

/**
 * Listens on `<stateDir>/daemon.sock`, answering every connection with `answer` and closing it. A socket left by a
 * daemon that died is replaced. Throws STATUS_SOCKET_FAILED naming the path when it cannot listen (path too long for
 * sun_path, a directory in the way, no permission): the daemon then runs on, and `status` shows the files.
 */
export async function listenDaemonSocket(stateDir: string, answer: DaemonAnswer): Promise<DaemonSocket> {
  const socketPath = daemonSocketPath(stateDir);
  try {
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) throw new Error(`path longer than ${MAX_SOCKET_PATH_BYTES} bytes`);
    await mkdir(stateDir, { recursive: true, mode: 0o755 });
    await removeStaleSocket(socketPath);
    const server = await listenOn(socketPath, `${JSON.stringify({ service: SERVICE, ...answer })}\n`);
    return { path: socketPath, close: () => closeServer(server) };
  } catch (error) {
    throw new StaplerdError('STATUS_SOCKET_FAILED', `cannot listen on the status socket: ${(error as Error).message}`, { file: socketPath });
  }
}

/**
 * Asks the daemon on `stateDir`, if any, who it is. Undefined when nothing there is a socket, nothing accepts, or
 * what answers is not a staplerd daemon within `timeoutMs`. Never throws and never hangs: whatever sits at that path
 * may be hostile (a symlink to another service's socket, a listener that never speaks, a flood of bytes).
 */
export async function askDaemon(stateDir: string, options: { timeoutMs: number }): Promise<DaemonAnswer | undefined> {
  const socketPath = daemonSocketPath(stateDir);
  try {
    // lstat, not stat: a symlink planted in the state dir must not lead `status` to another service's socket.
    if (!(await lstat(socketPath)).isSocket()) return undefined;
  } catch {
    return undefined;
  }
  const text = await readAnswer(socketPath, options.timeoutMs);
  return text === undefined ? undefined : parseAnswer(text);
}

async function removeStaleSocket(socketPath: string): Promise<void> {
  try {
    const stats = await lstat(socketPath);
    // A directory there is not ours to remove; listen() then fails with EADDRINUSE and says so.
    if (!stats.isDirectory()) await unlink(socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function listenOn(socketPath: string, line: string): Promise<Server> {
  const server = createServer((socket) => {
    socket.setTimeout(SERVE_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.end(line);
  });
  server.maxConnections = MAX_CONNECTIONS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Writable by all: connect(2) needs write permission on the socket, and `status` may run as another user than
    // the sandboxed daemon. It only ever tells the pid and instance id, which status.json (0644) says too.
    server.listen({ path: socketPath, readableAll: true, writableAll: true }, () => {
      server.off('error', reject);
      // A failure after listening (e.g. EMFILE on accept) costs only the live view: it must not take the daemon down.
      server.on('error', () => {});
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  // Node removes the socket file when a listening Unix socket closes, so a stopped daemon leaves no live-looking path.
  return new Promise((resolve) => server.close(() => resolve()));
}

function readAnswer(socketPath: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const socket: Socket = connect({ path: socketPath });
    const finish = (value: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_ANSWER_BYTES) finish(undefined);
      else if (text.includes('\n')) finish(text.slice(0, text.indexOf('\n')));
    });
    socket.on('end', () => finish(undefined));
    socket.on('error', () => finish(undefined));
  });
}

function parseAnswer(text: string): DaemonAnswer | undefined {
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (parsed.service !== SERVICE || !Number.isInteger(parsed.pid) || typeof parsed.instanceId !== 'string' || parsed.instanceId === '') return undefined;
    return { pid: parsed.pid as number, instanceId: parsed.instanceId };
  } catch {
    return undefined;
  }
}
