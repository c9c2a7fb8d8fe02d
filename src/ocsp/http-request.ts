// What an HTTP exchange is to staplerd (the HttpClient contract the fetchers and tests' fakes share) and the checks on
// a request before anything is sent; the got adapter is http-client.ts, reading the answer read-response.ts.
import { StaplerdError } from '../errors/index.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  /** How errors name the request, when not by `url`: an OCSP GET URL carries the whole base64 request, which only
   *  makes log lines long and ungroupable, so OCSP errors name the responder URL instead. */
  displayUrl?: string;
  body?: Uint8Array;
  headers: Record<string, string>;
  timeoutMs: number;
  maxBodyBytes: number;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body: Uint8Array;
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
  /** Starts loading what the first request needs, when a caller knows a request is coming before it can send it
   *  (a cold pass, while it still parses). Resolves once loaded, never rejects (a failed load is the first request's
   *  error). Optional: clients with nothing to load leave it out. */
  prepare?(): Promise<void>;
}

export interface ClosableHttpClient extends HttpClient {
  /** Destroys the keep-alive agents' sockets; call once when the process (or a test) is done. */
  close(): void;
}

/** Followed redirects per request; OCSP responders rarely redirect, and a loop must not cost a whole timeout. */
export const MAX_REDIRECTS = 3;

export const SUPPORTED_PROTOCOLS = new Set(['http:', 'https:']);

/** Rejects anything but absolute http:/https: URLs before a socket is opened. */
export function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new StaplerdError('URL_UNSUPPORTED', `not a valid URL: ${raw}`, { url: raw }, { cause: error });
  }
  if (!SUPPORTED_PROTOCOLS.has(url.protocol)) {
    throw new StaplerdError('URL_UNSUPPORTED', `URL scheme ${url.protocol} is not http or https`, { url: raw });
  }
  return url;
}

export function shownUrl(req: HttpRequest): string {
  return req.displayUrl ?? req.url;
}
