// staplerd's own version, read from package.json (one level above both src/ and dist/).
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const VERSION = readVersion();
/** Sent on every request so responder operators can tell who is calling (RFC 9110 10.1.5). */
export const USER_AGENT = `staplerd/${VERSION}`;
