// The status socket: a running daemon answers who it is; anything else at that path (stale file, symlink, silent or
// chatty listener) gives no answer, quickly, and never hangs `status`.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { lstat, mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { askDaemon, daemonSocketPath, listenDaemonSocket, type DaemonSocket } from '../../src/state/index.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';

const ANSWER = { pid: 4242, instanceId: 'a6a1e4c0-5d7e-4a55-9a43-2f1c6b0c9d11' };
/** Long enough never to be what ends a test on a busy machine; a silent listener must end the wait by itself. */
const TIMEOUT_MS = 1_000;

let stateDir: string;
let listening: DaemonSocket | undefined;
const servers: Server[] = [];

beforeEach(async () => {
  stateDir = await makeTempDir('staplerd-socket-test-');
});

afterEach(async () => {
  await listening?.close();
  listening = undefined;
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await removeTempDir(stateDir);
});

/** A listener at `socketPath` that does `onConnection` with each client, as a hostile local process could. */
async function listenHostile(socketPath: string, onConnection: (socket: import('node:net').Socket) => void): Promise<void> {
  const server = createServer(onConnection);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
}

describe('the status socket', () => {
  it("answers with the daemon's pid and instance id", async () => {
    listening = await listenDaemonSocket(stateDir, ANSWER);
    expect(await askDaemon(stateDir, { timeoutMs: TIMEOUT_MS })).toEqual(ANSWER);
  });

  it('gets no answer from the socket file of a daemon that died, and a new daemon replaces it', async () => {
    // A killed daemon leaves its socket file with nothing behind it: bind elsewhere, move the file, stop listening.
    const bound = path.join(stateDir, 'bound.sock');
    await listenHostile(bound, () => {});
    await rename(bound, daemonSocketPath(stateDir));
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect((await lstat(daemonSocketPath(stateDir))).isSocket()).toBe(true);
    expect(await askDaemon(stateDir, { timeoutMs: TIMEOUT_MS })).toBeUndefined();

    listening = await listenDaemonSocket(stateDir, ANSWER);
    expect(await askDaemon(stateDir, { timeoutMs: TIMEOUT_MS })).toEqual(ANSWER);
  });

  it('removes the socket file when closed, so no later status finds it', async () => {
    const socket = await listenDaemonSocket(stateDir, ANSWER);
    await socket.close();
    expect(await askDaemon(stateDir, { timeoutMs: TIMEOUT_MS })).toBeUndefined();
  });

  it('refuses a directory in the way with STATUS_SOCKET_FAILED naming the path', async () => {
    await mkdir(daemonSocketPath(stateDir));
    await expect(listenDaemonSocket(stateDir, ANSWER)).rejects.toMatchObject({ code: 'STATUS_SOCKET_FAILED', file: daemonSocketPath(stateDir) });
  });

  it('refuses a state dir whose socket path does not fit in sun_path, with STATUS_SOCKET_FAILED', async () => {
    const deep = path.join(stateDir, 'x'.repeat(120));
    await expect(listenDaemonSocket(deep, ANSWER)).rejects.toMatchObject({ code: 'STATUS_SOCKET_FAILED', file: daemonSocketPath(deep) });
  });
});

describe('asking whatever sits at the socket path', () => {
  it('gets no answer when there is nothing', async () => {
    expect(await askDaemon(stateDir, { timeoutMs: TIMEOUT_MS })).toBeUndefined();
  });

  it('gets no answer from a regular file', async () => {
    await writeFile(daemonSocketPath(stateDir), '{"service":"staplerd","pid":1,"instanceId":"x"}\n');
    expect(await askDaemon(stateDir, { timeoutMs: TIMEOUT_MS })).toBeUndefined();
  });

  it('does not follow a symlink to a live socket elsewhere', async () => {
    const elsewhere = await makeTempDir('staplerd-socket-elsewhere-');
    try {
      const real = await listenDaemonSocket(elsewhere, ANSWER);
      try {
        await symlink(daemonSocketPath(elsewhere), daemonSocketPath(stateDir));
        expect(await askDaemon(stateDir, { timeoutMs: TIMEOUT_MS })).toBeUndefined();
      } finally {
        await real.close();
      }
    } finally {
      await removeTempDir(elsewhere);
    }
  });

  it('gives up on a listener that accepts and never speaks', async () => {
    await listenHostile(daemonSocketPath(stateDir), () => {});
    expect(await askDaemon(stateDir, { timeoutMs: TIMEOUT_MS })).toBeUndefined();
  });

  it('gives up on a listener that floods bytes without a line end', async () => {
    await listenHostile(daemonSocketPath(stateDir), (socket) => {
      socket.on('error', () => {});
      socket.write('x'.repeat(64 * 1024));
    });
    expect(await askDaemon(stateDir, { timeoutMs: TIMEOUT_MS })).toBeUndefined();
  });

  it('takes no answer from a listener that is not staplerd or gives a malformed one', async () => {
    for (const line of ['{"service":"redis","pid":7,"instanceId":"x"}', '{"service":"staplerd","pid":"7","instanceId":"x"}', '{"service":"staplerd","pid":7}', 'not json']) {
      const socketPath = daemonSocketPath(stateDir);
      await listenHostile(socketPath, (socket) => socket.end(`${line}\n`));
      expect(await askDaemon(stateDir, { timeoutMs: TIMEOUT_MS })).toBeUndefined();
      await new Promise((resolve) => servers.pop()!.close(resolve));
    }
  });
});
