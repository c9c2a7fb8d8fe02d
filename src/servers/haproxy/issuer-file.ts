// HAProxy's `<crt>.issuer`: lets HAProxy load `<crt>.ocsp` at start when the issuer is not inside the PEM.
import { writeFileIfChanged } from '../../output/atomic-write.js';

/**
 * HAProxy 2.6 only loads `<crt>.ocsp` at start if it can find the issuer, either in the PEM chain or in a file named
 * `<crt>.issuer` beside it (HAProxy configuration manual, "crt" bind option / OCSP stapling).
 */
export function issuerFilePath(certFile: string): string {
  return `${certFile}.issuer`;
}

/** Writes the issuer PEM beside the certificate when it differs from what is there. Returns true when written. */
export function syncIssuerFile(certFile: string, issuerPem: string): Promise<boolean> {
  return writeFileIfChanged(issuerFilePath(certFile), new TextEncoder().encode(issuerPem), { mode: 0o644 });
}
