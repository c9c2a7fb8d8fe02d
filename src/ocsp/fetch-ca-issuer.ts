// Downloads AIA caIssuers URLs (RFC 5280 section 4.2.2.1) for issuers missing from a bundle, with a per-process cache:
// thousands of leaves share a handful of intermediates, so each URL is fetched once.
import { toStaplerdError } from '../errors/index.js';
import { systemClock } from '../types/index.js';
import type { HttpClient, HttpRequest, HttpResponse } from './http-client.js';
import type { HostLimiter } from './host-limiter.js';
import { DEFAULT_OCSP_MAX_BODY_BYTES, httpStatusError, isSuccess, withUrl } from './fetch-ocsp-response.js';

/** Bounds the cache; far more distinct intermediates than any deployment has. */
export const DEFAULT_CA_ISSUER_CACHE_ENTRIES = 256;

export interface CaIssuerFetchOptions {
  http: HttpClient;
  limiter: HostLimiter;
  timeoutMs: number;
  /** Defaults to 64 KiB, ample for a DER certificate or a small certs-only PKCS#7 bundle. */
  maxBodyBytes?: number;
  userAgent: string;
  /** Clock for Retry-After HTTP-dates; defaults to the system clock. */
  now?: () => Date;
  maxCacheEntries?: number;
}

export interface CaIssuerFetcher {
  /** Raw body bytes (DER certificate or PKCS#7; parsing belongs to pki). Throws StaplerdError FETCH_* on failure. */
  fetch(url: string): Promise<Uint8Array>;
}

export function createCaIssuerFetcher(options: CaIssuerFetchOptions): CaIssuerFetcher {
  const maxEntries = options.maxCacheEntries ?? DEFAULT_CA_ISSUER_CACHE_ENTRIES;
  const cache = new Map<string, Uint8Array>();
  // Concurrent fetches of one URL (a pass processes many leaves of one intermediate at once) share one download.
  const pending = new Map<string, Promise<Uint8Array>>();

  const remember = (url: string, body: Uint8Array): void => {
    cache.set(url, body);
    // Map iteration is insertion order, so the first key is the oldest entry.
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };

  // Caching before leaving `pending` leaves no moment where a second caller finds neither. Failures are not cached:
  // the next pass retries under the scheduler's backoff.
  const downloadAndRemember = async (url: string): Promise<Uint8Array> => {
    try {
      const body = await downloadCaIssuer(url, options);
      if (body.length > 0) remember(url, body);
      return body;
    } finally {
      pending.delete(url);
    }
  };

  const fetch = async (url: string): Promise<Uint8Array> => {
    const cached = cache.get(url);
    if (cached !== undefined) return cached.slice();
    let download = pending.get(url);
    if (download === undefined) {
      download = downloadAndRemember(url);
      pending.set(url, download);
    }
    return (await download).slice();
  };

  return { fetch };
}

async function downloadCaIssuer(url: string, options: CaIssuerFetchOptions): Promise<Uint8Array> {
  const req: HttpRequest = {
    method: 'GET',
    url,
    // RFC 5280 section 4.2.2.1: a single DER certificate (application/pkix-cert) or a certs-only CMS message
    // (application/pkcs7-mime); some servers send PEM or octet-stream, so anything is accepted at lower priority.
    headers: { accept: 'application/pkix-cert, application/pkcs7-mime, */*;q=0.1', 'user-agent': options.userAgent },
    timeoutMs: options.timeoutMs,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_OCSP_MAX_BODY_BYTES,
  };
  let response: HttpResponse;
  try {
    response = await options.limiter.run(url, () => options.http.request(req));
  } catch (error) {
    throw withUrl(toStaplerdError(error, 'FETCH_NETWORK', { url }), url);
  }
  if (!isSuccess(response)) throw httpStatusError(response, url, 'GET', options.now ?? systemClock.now);
  return response.body;
}
