// Public surface of the pki module: plain data in and out, no pkijs/asn1js types.
export { readCertificateFile, encodePem, type PemContents } from './pem.js';
export { Certificate } from './certificate.js';
export { CertificateCache, type CertificateCacheOptions } from './certificate-cache.js';
export { parseCertificateBundle } from './certificate-bundle.js';
export { buildOcspRequest, type BuiltOcspRequest, type OcspRequestOptions } from './ocsp-request.js';
export {
  validateOcspResponse, inspectOcspResponse, impliedNextUpdate, DEFAULT_CLOCK_SKEW_MS, DEFAULT_MIN_REMAINING_MS, type ValidationInput, type InspectedOcspResponse,
} from './ocsp-response.js';
export type { CertificateSummary, CertStatus, ValidatedResponse } from './types.js';
export { createValidationMemos, type ValidationMemos } from './validation-memos.js';
