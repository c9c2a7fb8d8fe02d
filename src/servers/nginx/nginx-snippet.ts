// nginx include snippets: `ssl_stapling_file` only while a valid staple exists, so `include` never breaks a reload.
import type { ValidatedResponse } from '../../pki/types.js';
import { writeFileIfChanged } from '../../output/atomic-write.js';

/**
 * nginx 1.22 refuses to start or reload when an `ssl_stapling_file` is missing or unparseable, and then staples that
 * file's bytes until the next reload, expired or not (ngx_event_openssl_stapling.c reads it once). A snippet that
 * names the file only while it holds a valid response keeps `include` safe in both directions.
 */
export function nginxSnippetPath(stapleFile: string): string {
  return stapleFile.replace(/\.ocsp$/, '') + '.stapling.conf';
}

/** The snippet's text. No timestamps: it changes only when stapling turns on or off, or the path moves. */
export function renderNginxSnippet(stapleFile: string, staple: ValidatedResponse | undefined): string {
  if (!staple) {
    return '# Managed by staplerd: no valid OCSP staple right now, so stapling stays off for this certificate.\n';
  }
  // nginx takes the file name as a bare word or a quoted string; quote only when needed (spaces, quotes, semicolons).
  // Inside quotes nginx's parser (ngx_conf_read_token) unescapes only \", \' and \\; any other backslash stays in the
  // name, so "$" is left bare: ssl_stapling_file does not expand variables.
  const path = /^[A-Za-z0-9_./@:+-]+$/.test(stapleFile) ? stapleFile : `"${stapleFile.replace(/(["\\])/g, '\\$1')}"`;
  return `# Managed by staplerd: valid OCSP staple, validated before it was written.\nssl_stapling on;\nssl_stapling_file ${path};\n`;
}

/** Writes the snippet only when its text changes (same inode and mtime otherwise). Returns true when written. */
export function syncNginxSnippet(stapleFile: string, staple: ValidatedResponse | undefined): Promise<boolean> {
  return writeFileIfChanged(nginxSnippetPath(stapleFile), new TextEncoder().encode(renderNginxSnippet(stapleFile, staple)), { mode: 0o644 });
}
