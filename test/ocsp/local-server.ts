// A real node:http server on 127.0.0.1 (port 0) that records what the client sent, for the ocsp transport tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: RecordedRequest, res: http.ServerResponse) => void;

export interface LocalServer {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connectionCount(): number;
  close(): Promise<void>;
}

/** Listens on `host` (127.0.0.1 unless told; redirect tests use other loopback addresses to play other hosts). */
export async function startLocalServer(handler: Handler, host = '127.0.0.1'): Promise<LocalServer> {
  const requests: RecordedRequest[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(recorded);
      handler(recorded, res);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests,
    connectionCount: () => connections,
    close: () => closeServer(server),
  };
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Handlers that never answer (timeout tests) and idle keep-alive sockets would otherwise keep jest alive.
    server.closeAllConnections();
  });
}

/** A URL on which nothing listens: bind port 0, note it, close it. */
export async function refusedUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export function respond(res: http.ServerResponse, statusCode: number, body: Uint8Array = new Uint8Array(), headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(statusCode, { 'content-type': 'application/ocsp-response', 'content-length': body.length, ...headers });
  res.end(body);
}
