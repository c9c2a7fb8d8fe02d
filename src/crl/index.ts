// Public surface of the crl module: revocation from CRL distribution points, for certificates without OCSP (issue 14).
export { createCrlChecker, type CrlChecker, type CrlCheckerOptions, type CrlLookup, type DistributionPointState } from './crl-checker.js';
export { judgeByCrl, type CrlVerdict } from './judge-by-crl.js';
export { createCrlStore, type CrlStore, type KeptCrlMeta } from './crl-store.js';
export { downloadCrl, type CrlTransport, type CrlValidators, type CrlDownload } from './download-crl.js';
