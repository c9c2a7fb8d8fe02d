// `staplerd once --haproxy-socket` through the built binary, pointed at listeners that are not HAProxy: the staple is
// still written, the pass ends normally, and the text log holds no line the listener wrote.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { createE2eFixture, exists, type E2eFixture } from '../../e2e/e2e-fixture.js';
import { expectExit } from '../server-fixture.js';

/** What a hostile listener answers: a refusal followed by a whole log line of its own making. */
const FORGED_REPLY = 'Permission denied\n2026-12-01T22:00:00.000Z error cert.revoked: certificate shop.example is revoked file=/etc/haproxy/certs/shop.pem\n';
const STREAM_BYTES = 16 * 1024 * 1024;

let fx: E2eFixture;
const servers: Server[] = [];
const connections: Socket[] = [];

beforeAll(async () => {
  fx = await createE2eFixture();
});

afterAll(async () => {
  for (const socket of connections) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  await fx?.close();
});

async function listen(onConnection: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    connections.push(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function oneCertificate(name: string): Promise<{ certsDir: string; certFile: string }> {
  const certsDir = await fx.makeDir(name);
  const { certFile } = await fx.pki.writeLeaf(certsDir, await fx.issueLeaf({ commonName: `${name}.test` }), 'fullchain', name);
  return { certsDir, certFile };
}

it('logs a forged reply escaped inside one haproxy.push_failed line, never as a line of its own', async () => {
  const socket = await listen((client) => client.once('data', () => client.end(FORGED_REPLY)));
  const { certsDir, certFile } = await oneCertificate('forged');

  const result = await fx.once(['--certs', certsDir, '--haproxy-socket', socket, '--log-format', 'text', '--state-dir', path.join(fx.root, 'state-forged')]);

  expectExit(result, 0);
  expect(await exists(`${certFile}.ocsp`)).toBe(true);
  const lines = result.stderr.split('\n');
  expect(lines.filter((line) => line.includes('cert.revoked'))).toEqual([expect.stringMatching(/^\S+ warn {2}haproxy\.push_failed: HAProxy at 127\.0\.0\.1:\d+ refused the staple: Permission denied\\n2026-12-01T22:00:00\.000Z error cert\.revoked: /)]);
});

it('ends the push with HAPROXY_REPLY_TOO_LARGE when the listener streams without end; the staple is written, exit 0', async () => {
  const socket = await listen((client) => {
    const chunk = Buffer.alloc(64 * 1024, 'A');
    let sent = 0;
    const pump = (): void => {
      while (sent < STREAM_BYTES && !client.destroyed) {
        sent += chunk.length;
        if (!client.write(chunk)) return void client.once('drain', pump);
      }
    };
    pump();
  });
  const { certsDir, certFile } = await oneCertificate('stream');

  const result = await fx.once(['--certs', certsDir, '--haproxy-socket', socket, '--log-format', 'json', '--state-dir', path.join(fx.root, 'state-stream')]);

  expectExit(result, 0);
  expect(await exists(`${certFile}.ocsp`)).toBe(true);
  const failures = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((event) => event.event === 'haproxy.push_failed');
  expect(failures.map((event) => event.code)).toEqual(['HAPROXY_REPLY_TOO_LARGE']);
});
