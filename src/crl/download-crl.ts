// Downloads a CRL over the pass's HTTP client and per-host limiter, conditionally (RFC 9110 13.1: If-None-Match,
// If-Modified-Since) so an unchanged CRL costs a 304 instead of megabytes, and within --max-crl-size.
import { StaplerdError, toStaplerdError } from '../errors/index.js';
import { httpStatusError, isSuccess, withUrl } from '../ocsp/fetch-ocsp-response.js';
import type { HostLimiter } from '../ocsp/host-limiter.js';
import type { HttpClient, HttpResponse } from '../ocsp/http-request.js';

export interface CrlTransport {
  readonly http: HttpClient;
  readonly limiter: HostLimiter;
  readonly timeoutMs: number;
  readonly maxCrlBytes: number;
  readonly userAgent: string;
  readonly now: () => Date;
}

/** What the server said last time, sent back so it can answer 304. */
export interface CrlValidators {
  readonly etag?: string;
  readonly lastModified?: string;
}

export type CrlDownload =
  | { readonly kind: 'not-modified' }
  | { readonly kind: 'downloaded'; readonly der: Uint8Array; readonly validators: CrlValidators };

/** Header values come from a hostile server and go back to it: only printable ASCII of sane length is kept. */
const SAFE_HEADER_VALUE = /^[\x20-\x7e]{1,256}$/;

export async function downloadCrl(url: string, validators: CrlValidators | undefined, transport: CrlTransport): Promise<CrlDownload> {
  const headers: Record<string, string> = {
    // RFC 5280 4.2.1.13: a DER CRL, served as application/pkix-crl; anything is accepted at lower priority.
    accept: 'application/pkix-crl, */*;q=0.1',
    'user-agent': transport.userAgent,
  };
  if (validators?.etag) headers['if-none-match'] = validators.etag;
  if (validators?.lastModified) headers['if-modified-since'] = validators.lastModified;
  let response: HttpResponse;
  try {
    response = await transport.limiter.run(url, () =>
      transport.http.request({ method: 'GET', url, headers, timeoutMs: transport.timeoutMs, maxBodyBytes: transport.maxCrlBytes }),
    );
  } catch (thrown) {
    const error = withUrl(toStaplerdError(thrown, 'FETCH_NETWORK', { url }), url);
    if (error.code === 'FETCH_TOO_LARGE') throw new StaplerdError('CRL_TOO_LARGE', `${url}: CRL is larger than --max-crl-size (${transport.maxCrlBytes} bytes)`, { url }, { cause: error });
    throw error;
  }
  if (response.statusCode === 304 && validators) return { kind: 'not-modified' };
  if (!isSuccess(response)) throw httpStatusError(response, url, 'GET', transport.now);
  return { kind: 'downloaded', der: response.body, validators: { etag: safeHeader(response.headers.etag), lastModified: safeHeader(response.headers['last-modified']) } };
}

function safeHeader(value: string | undefined): string | undefined {
  return value !== undefined && SAFE_HEADER_VALUE.test(value) ? value : undefined;
}
