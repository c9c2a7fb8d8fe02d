// Public surface of the ocsp module: HTTP transport, per-host limits, OCSP and caIssuers downloads.
export { createHttpClient, type HttpClient, type ClosableHttpClient, type HttpClientOptions, type HttpRequest, type HttpResponse } from './http-client.js';
export { createHostLimiter, hostOf, interleaveByHost, type HostLimiter, type HostLimiterOptions } from './host-limiter.js';
export {
  fetchOcspResponse,
  buildOcspGetUrl,
  encodeOcspGetPath,
  parseRetryAfter,
  DEFAULT_OCSP_MAX_BODY_BYTES,
  MAX_OCSP_GET_URL_BYTES,
  type OcspFetchOptions,
  type OcspFetchCallbacks,
  type OcspAttempt,
  type FetchedOcspResponse,
  type AcceptOcspResponse,
} from './fetch-ocsp-response.js';
export { createCaIssuerFetcher, DEFAULT_CA_ISSUER_CACHE_ENTRIES, type CaIssuerFetcher, type CaIssuerFetchOptions } from './fetch-ca-issuer.js';
