// Reads one response off the transport's stream: the body bounded by maxBodyBytes, answers refused before their body
// (proxy 407, announced length, redirect to another scheme), and transport errors mapped onto staplerd codes.
// Node's stream and header types only: got stays in http-client.ts, which hands its stream here.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { StaplerdError } from '../errors/index.js';
import { MAX_REDIRECTS, SUPPORTED_PROTOCOLS, shownUrl, type HttpRequest, type HttpResponse } from './http-request.js';
import type { ProxyRoute } from './proxy-agents.js';

/** HTTP 407 Proxy Authentication Required (RFC 9110 section 15.5.8) only ever comes from a proxy. */
const PROXY_AUTHENTICATION_REQUIRED = 407;

/** What is read of a response's head (got's PlainResponse has it; `url` is the hop that answered). */
export interface ResponseHead {
  readonly statusCode: number;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export function resolveLocation(response: ResponseHead): URL | undefined {
  const location = response.headers.location;
  if (location === undefined) return undefined;
  try {
    return new URL(location, response.url);
  } catch {
    return undefined;
  }
}

/** Reads the body chunk by chunk, aborting as soon as it passes maxBodyBytes (got itself has no download limit). */
export function collectResponse(stream: Readable, req: HttpRequest, currentRoute: () => ProxyRoute | undefined): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let response: ResponseHead | undefined;
    let settled = false;
    let receivedBytes = 0;
    const chunks: Buffer[] = [];
    const fail = (error: StaplerdError): void => {
      if (settled) return;
      settled = true;
      stream.destroy();
      reject(error);
    };
    stream.once('response', (res: ResponseHead) => {
      response = res;
      const problem = rejectProxyAuthentication(res, req, currentRoute()) ?? checkAnnouncedLength(res, req) ?? rejectOtherScheme(res, req);
      if (problem) fail(problem);
    });
    stream.on('data', (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes > req.maxBodyBytes) {
        fail(tooLargeError(req, `body passed ${req.maxBodyBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => {
      if (settled) return;
      settled = true;
      if (response === undefined) {
        reject(new StaplerdError('INTERNAL', 'response stream ended without a response', { url: shownUrl(req) }));
        return;
      }
      resolve({ statusCode: response.statusCode, headers: flattenHeaders(response.headers), body: new Uint8Array(Buffer.concat(chunks)) });
    });
    stream.once('error', (error: unknown) => fail(toFetchError(error, shownUrl(req), currentRoute()?.proxyOrigin)));
  });
}

/** A proxy asking for credentials is a configuration problem of the proxy, not of the responder: fail with a message
 *  naming the proxy instead of handing a 407 back (which would also make the OCSP fetcher retry the same URL by POST). */
function rejectProxyAuthentication(response: ResponseHead, req: HttpRequest, route: ProxyRoute | undefined): StaplerdError | undefined {
  if (route?.proxyOrigin === undefined || response.statusCode !== PROXY_AUTHENTICATION_REQUIRED) return undefined;
  return new StaplerdError('FETCH_HTTP_STATUS', `${req.method} ${shownUrl(req)}: proxy ${route.proxyOrigin} answered HTTP 407 (credentials missing or refused)`, {
    url: shownUrl(req),
  });
}

/** A Content-Length above the limit is refused before reading a byte of it. */
function checkAnnouncedLength(response: ResponseHead, req: HttpRequest): StaplerdError | undefined {
  const header = response.headers['content-length'];
  if (header === undefined) return undefined;
  const announcedBytes = Number(header);
  if (!Number.isFinite(announcedBytes) || announcedBytes <= req.maxBodyBytes) return undefined;
  return tooLargeError(req, `Content-Length ${announcedBytes} exceeds ${req.maxBodyBytes} bytes`);
}

/** A redirect we declined to follow because of its scheme (ftp:, file:, ldap:...) is an unsupported URL, not a 3xx. */
function rejectOtherScheme(response: ResponseHead, req: HttpRequest): StaplerdError | undefined {
  if (response.statusCode < 300 || response.statusCode >= 400) return undefined;
  const target = resolveLocation(response);
  if (target === undefined || SUPPORTED_PROTOCOLS.has(target.protocol)) return undefined;
  return new StaplerdError('URL_UNSUPPORTED', `redirected to unsupported scheme ${target.protocol}`, { url: shownUrl(req) });
}

function tooLargeError(req: HttpRequest, detail: string): StaplerdError {
  return new StaplerdError('FETCH_TOO_LARGE', `${req.method} ${shownUrl(req)}: ${detail}`, { url: shownUrl(req) });
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** hpagent reports a CONNECT refused by the proxy as a plain Error with this message (hpagent 1.2 index.js). */
const CONNECT_REFUSED_MESSAGE = /^Bad response: (\d{3})$/;

/** Maps got/Node errors onto staplerd codes; the code, not the message, drives retry and log level. Errors on a
 *  proxied request name the proxy, since the operator's fix is often there rather than at the responder. */
function toFetchError(error: unknown, url: string, proxyOrigin: string | undefined): StaplerdError {
  if (error instanceof StaplerdError) return error;
  const { name, code, message } = describeError(error);
  const where = proxyOrigin === undefined ? url : `${url} via proxy ${proxyOrigin}`;
  // got wraps what a hook or a lookup threw (REDIRECT_REFUSED) in a RequestError; the code inside is the one that counts.
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof StaplerdError) return new StaplerdError(cause.code, `${where}: ${cause.message}`, { url }, { cause });
  const connectStatus = proxyOrigin === undefined ? undefined : CONNECT_REFUSED_MESSAGE.exec(message)?.[1];
  if (connectStatus !== undefined) {
    return new StaplerdError('FETCH_HTTP_STATUS', `${where}: the proxy refused the CONNECT tunnel with HTTP ${connectStatus}`, { url }, { cause: error });
  }
  if (name === 'TimeoutError' || code === 'ETIMEDOUT' || (proxyOrigin !== undefined && message === 'Proxy timeout')) {
    return new StaplerdError('FETCH_TIMEOUT', `no complete answer from ${where}: ${message}`, { url }, { cause: error });
  }
  if (code === 'ERR_UNSUPPORTED_PROTOCOL') {
    return new StaplerdError('URL_UNSUPPORTED', message, { url }, { cause: error });
  }
  if (code === 'ERR_TOO_MANY_REDIRECTS') {
    return new StaplerdError('FETCH_HTTP_STATUS', `more than ${MAX_REDIRECTS} redirects from ${url}`, { url }, { cause: error });
  }
  // Refused, reset, DNS failure, TLS failure, server hung up mid-body: all "unreachable for now".
  return new StaplerdError('FETCH_NETWORK', `${where}: ${message}${code ? ` (${code})` : ''}`, { url }, { cause: error });
}

function describeError(error: unknown): { name?: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, code: typeof code === 'string' ? code : undefined, message: error.message };
}

