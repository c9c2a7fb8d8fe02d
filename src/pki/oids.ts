// Object identifiers staplerd reads or writes, with the document that defines each.
export const OID = {
  // RFC 5280 4.2.2.1 Authority Information Access and its access methods.
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  accessOcsp: '1.3.6.1.5.5.7.48.1',
  accessCaIssuers: '1.3.6.1.5.5.7.48.2',
  // RFC 7633: TLS Feature extension; value 5 (status_request) means must-staple.
  tlsFeature: '1.3.6.1.5.5.7.1.24',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  // RFC 6960 4.2.2.2: a delegated responder certificate carries id-kp-OCSPSigning.
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  // RFC 6960 4.2.1 / 4.4.1.
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  // RFC 2315 PKCS#7 signedData, for "certs-only" caIssuers bundles (RFC 5280 4.2.2.1).
  pkcs7SignedData: '1.2.840.113549.1.7.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;
