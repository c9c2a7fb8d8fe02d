// Public surface of the discovery module.
export * from './find-certificate-files.js';
export * from './load-certificate-file.js';
export * from './resolve-issuer.js';
