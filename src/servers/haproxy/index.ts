// HAProxy: reads `<crt>.ocsp` (and `<crt>.issuer`) at start; runtime pushes (`set ssl ocsp-response`) update a
// running HAProxy, and pushes that failed are owed through the state dir. Docs: docs/haproxy.md.
export { createHaproxyServer, type HaproxyServer } from './haproxy-server.js';
export { parseHaproxySocket, pushOcspResponse, MAX_REPLY_BYTES, type HaproxySocketAddress } from './haproxy-runtime.js';
export { issuerFilePath, syncIssuerFile } from './issuer-file.js';
export { loadPendingPushes, updatePendingPushes, pendingPushesFilePath } from './pending-pushes.js';
