// Removes passwords from text bound for messages and logs: URL userinfo and `password=...`-style pairs.
// Issue "hostile files" finding 8: a config error quoted a proxy URL with its password (docs/configuration.md promises
// values are never repeated), so every StaplerdError message passes through here.

/** `scheme://user:password@` (RFC 3986 section 3.2.1 userinfo); the password runs to the last `@` before the path, so
 *  a password holding an unencoded `@` is still hidden whole. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#]*)@/gi;

/** `password: x`, `passwd=x`, `secret=x`, `token: x`, `(Proxy-)Authorization: Basic x`: the value up to whitespace,
 *  quote or separator (`authorization` takes its scheme word too). Not a bare `pass`: "first pass: ..." is prose. */
const SECRET_PAIR = /\b(password|passwd|pwd|secret|token|authorization)(\s*[:=]\s*)(?:(basic|bearer)\s+)?[^\s"',;&)]+/gi;

export const REDACTED = '***';

/** The same text with every URL password and secret-bearing value replaced by `***`; the user name stays (it helps
 *  the operator find the entry and is not a secret). */
export function redactSecrets(text: string): string {
  return text
    .replace(URL_USERINFO, (_match, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(SECRET_PAIR, (_match, name: string, separator: string, scheme: string | undefined) => `${name}${separator}${scheme ? `${scheme} ` : ''}${REDACTED}`);
}
