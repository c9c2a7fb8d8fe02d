// Public surface of the servers module: one folder per server, and the StapleServer list the pass calls.
import { createHaproxyServer } from './haproxy/index.js';
import { createNginxServer } from './nginx/index.js';
import type { StapleServer } from './staple-server.js';

export type { AfterPassContext, ServedCertificate, ServedStapleFile, ServerContext, StapleServer } from './staple-server.js';

/**
 * The servers that need more than the staple file (nginx: snippets; HAProxy: issuer files and pushes). lighttpd,
 * Exim, H2O, pyOpenSSL and Node TLS read the file itself and are not in this list (see their folders' index.ts).
 * Each one acts only when the configuration asks for it. Adding a server means adding its folder and a line here.
 */
export function createStapleServers(): StapleServer[] {
  return [createNginxServer(), createHaproxyServer()];
}
