// pushOcspResponse against real sockets that are not HAProxy: a listener streaming without end, one answering forged
// log text, one that never answers, and one answering like HAProxy.
import { afterAll, describe, expect, it } from '@jest/globals';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { MAX_REPLY_BYTES, pushOcspResponse, type HaproxySocketAddress } from '../../../src/servers/haproxy/haproxy-runtime.js';
import { makeTempDir, removeTempDirsAfterAll } from '../../helpers/test-pki.js';

const DER = Uint8Array.from([0x30, 0x03, 0x0a, 0x01, 0x00]);
/** Far more than any reply, so a reader without a cap takes it all; bounded so such a reader cannot exhaust memory. */
const STREAM_BYTES = 16 * 1024 * 1024;
const tempDirs = removeTempDirsAfterAll();
const servers: Server[] = [];
const connections: Socket[] = [];

afterAll(async () => {
  for (const socket of connections) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** A listener running `onConnection` for each client; on a unix socket path when `unixDir` is given, else 127.0.0.1. */
async function listen(onConnection: (socket: Socket) => void, unixDir?: string): Promise<HaproxySocketAddress> {
  const server = createServer((socket) => {
    connections.push(socket);
    onConnection(socket);
  });
  servers.push(server);
  const socketPath = unixDir ? path.join(unixDir, 'admin.sock') : undefined;
  await new Promise<void>((resolve) => (socketPath ? server.listen(socketPath, resolve) : server.listen(0, '127.0.0.1', resolve)));
  return socketPath ? { path: socketPath } : { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

/** Writes STREAM_BYTES as fast as the client reads, then keeps the connection open (never ends the reply). */
function streamWithoutEnd(socket: Socket): void {
  socket.on('error', () => {});
  const chunk = Buffer.alloc(64 * 1024, 'A');
  let sent = 0;
  const pump = (): void => {
    while (sent < STREAM_BYTES && !socket.destroyed) {
      sent += chunk.length;
      if (!socket.write(chunk)) return void socket.once('drain', pump);
    }
  };
  pump();
}

describe('pushOcspResponse', () => {
  it('gives up with HAPROXY_REPLY_TOO_LARGE, without waiting for the timeout, when a unix socket listener streams without end', async () => {
    const dir = await makeTempDir('staplerd-haproxy-');
    tempDirs.push(dir);
    const address = await listen(streamWithoutEnd, dir);

    await expect(pushOcspResponse(address, DER, { timeoutMs: 60_000, file: '/certs/a.pem.ocsp' })).rejects.toMatchObject({
      code: 'HAPROXY_REPLY_TOO_LARGE',
      file: '/certs/a.pem.ocsp',
      message: expect.stringContaining(`more than ${MAX_REPLY_BYTES} bytes`),
    });
  });

  it('gives up with HAPROXY_REPLY_TOO_LARGE when a TCP listener streams without end', async () => {
    const address = await listen(streamWithoutEnd);

    await expect(pushOcspResponse(address, DER, { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'HAPROXY_REPLY_TOO_LARGE' });
  });

  it('fails with HAPROXY_TIMEOUT when the listener answers nothing and keeps the connection open', async () => {
    const address = await listen((socket) => socket.on('error', () => {}));

    await expect(pushOcspResponse(address, DER, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'HAPROXY_TIMEOUT', message: expect.stringContaining('did not answer') });
  });

  it('quotes a refusal but cuts a long one short', async () => {
    const address = await listen((socket) => socket.end(`Permission denied ${'x'.repeat(2000)}\n`));

    const failure = pushOcspResponse(address, DER, { timeoutMs: 5000 });

    await expect(failure).rejects.toMatchObject({ code: 'HAPROXY_PUSH_FAILED', message: expect.stringMatching(/refused the staple: Permission denied x+\.\.\. \(2018 characters\)$/) });
  });

  it('resolves when the listener answers "OCSP Response updated!" and closes, as HAProxy does', async () => {
    let received = '';
    const address = await listen((socket) => {
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => {
        received += text;
        if (received.endsWith('\n')) socket.end('OCSP Response updated!\n\n');
      });
    });

    await expect(pushOcspResponse(address, DER, { timeoutMs: 5000 })).resolves.toBeUndefined();
    expect(received).toBe(`set ssl ocsp-response ${Buffer.from(DER).toString('base64')}\n`);
  });
});
