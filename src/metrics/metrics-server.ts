// The scrape endpoint: GET /metrics (Prometheus text) and GET /healthz (JSON, 200/503) on a node:http server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { StaplerdError } from '../errors/index.js';
import { systemClock, type Clock } from '../types/index.js';
import { statusCodeForHealth, type HealthReport } from './health.js';
import type { StaplerdMetrics } from './staplerd-metrics.js';

export interface MetricsServerOptions {
  /** `host:port`, IPv6 in brackets (`[::1]:9420`); the host is required. Port 0 picks a free port. */
  listen: string;
  metrics: StaplerdMetrics;
  health: () => HealthReport;
  /** Instant passed to render() so time-relative gauges are current at each scrape (default: the system clock). */
  clock?: Clock;
}

export interface MetricsServer {
  /** Base URL actually bound, e.g. `http://127.0.0.1:9420` (the real port when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

/** Scrapes are tiny GETs; a client that dribbles headers is cut off rather than holding a socket. */
const REQUEST_TIMEOUT_MS = 10_000;
const HOSTNAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * Parses `127.0.0.1:9420`, `[::1]:9420` or `localhost:9420`. A bare `:9420` is refused: binding every interface must
 * be a visible choice (`0.0.0.0:9420` or `[::]:9420`), since /metrics lists certificate paths.
 */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) throw invalidListen(text, 'expected host:port, e.g. 127.0.0.1:9420 or [::1]:9420 (the host is required)');
  const host = match[1] ?? match[2]!;
  if (match[1] !== undefined && isIP(host) !== 6) throw invalidListen(text, `"${host}" in brackets is not an IPv6 address`);
  if (match[2] !== undefined && isIP(host) === 0 && !HOSTNAME_PATTERN.test(host)) throw invalidListen(text, `"${host}" is not an IP address or host name`);
  const port = Number(match[3]);
  if (port > 65535) throw invalidListen(text, `port ${port} is out of range 0-65535`);
  return { host, port };
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(options.listen);
  const clock = options.clock ?? systemClock;
  const server = createServer((request, response) => {
    void handleRequest(request, response, options, clock);
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  await listen(server, host, port, options.listen);
  const address = server.address() as AddressInfo;
  return { url: `http://${formatHost(address.address)}:${address.port}`, close: () => closeServer(server) };
}

async function handleRequest(request: IncomingMessage, response: ServerResponse, options: MetricsServerOptions, clock: Clock): Promise<void> {
  try {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (pathname !== '/metrics' && pathname !== '/healthz') return send(response, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    if (pathname === '/metrics') {
      const { contentType, body } = await options.metrics.render(clock.now());
      return send(response, 200, contentType, body);
    }
    const report = options.health();
    return send(response, statusCodeForHealth(report), 'application/json; charset=utf-8', `${JSON.stringify(report, null, 2)}\n`);
  } catch (error) {
    // The message only: no stack traces to whoever can reach the port.
    const message = error instanceof Error ? error.message : String(error);
    if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `internal error: ${message}\n`);
    else response.destroy();
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', contentType);
  // Health and metrics describe this instant; a caching proxy must not replay them.
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function listen(server: Server, host: string, port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      // EADDRINUSE, EACCES (port < 1024), EADDRNOTAVAIL (not a local address): the operator must change the setting.
      // Its own code, exit 2 like CONFIG_INVALID at start; on SIGHUP only the metrics are lost, logged at error.
      reject(new StaplerdError('METRICS_LISTEN_FAILED', `cannot listen for metrics on ${text}: ${error.code ?? error.message}`, {}, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((error) => (error ? reject(error) : resolve()));
    // Prometheus keeps its connection alive between scrapes; without this close() would wait for it to time out.
    server.closeAllConnections();
  });
}

function formatHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

function invalidListen(text: string, detail: string): StaplerdError {
  return new StaplerdError('CONFIG_INVALID', `invalid metrics listen address "${text}": ${detail}`);
}
