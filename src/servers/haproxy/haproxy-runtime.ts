// Pushes a staple into a running HAProxy through its runtime API (`set ssl ocsp-response`), memory only.
import { connect, type Socket } from 'node:net';
import { StaplerdError } from '../../errors/index.js';

/** A unix socket path (`/run/haproxy/admin.sock`) or `host:port` / `[v6]:port` of a TCP stats socket. */
export type HaproxySocketAddress = { readonly path: string } | { readonly host: string; readonly port: number };

export function parseHaproxySocket(text: string): HaproxySocketAddress {
  if (text.startsWith('/') || text.startsWith('./') || text.startsWith('unix@')) return { path: text.replace(/^unix@/, '') };
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.replace(/^ipv[46]@/, ''));
  if (!match || Number(match[3]) > 65535) {
    throw new StaplerdError('CONFIG_INVALID', `HAProxy socket "${text}" is neither an absolute unix socket path nor host:port`);
  }
  return { host: match[1] ?? match[2]!, port: Number(match[3]) };
}

function describe(address: HaproxySocketAddress): string {
  return 'path' in address ? address.path : `${address.host}:${address.port}`;
}

/**
 * HAProxy's answers to `set ssl ocsp-response` are one short line ("OCSP Response updated!", "Unable to parse OCSP
 * response.", "Permission denied"); a few KiB is plenty. A listener at the socket address that sends more is not
 * the HAProxy runtime API: read unbounded, a streaming listener grew the reply string until V8 gave up
 * (`RangeError: Invalid string length` after 657 MB) and took staplerd down.
 */
export const MAX_REPLY_BYTES = 4096;

/** How much of a refusal goes into the log message: enough to read HAProxy's reason, not a whole stream. */
const MAX_QUOTED_REPLY_CHARS = 300;

/**
 * HAProxy's CLI in non-interactive mode answers one command and closes the connection. 2.6 and later answer
 * "OCSP Response updated!" on success; anything else ("Unable to parse OCSP response.", "OCSP single response:
 * Certificate ID does not match any certificate or issuer.", "Permission denied") is a failure. The socket must be
 * at `level admin` (HAProxy management guide, "set ssl ocsp-response"). The whole exchange (connect, write, reply)
 * has `timeoutMs`, and the reply at most MAX_REPLY_BYTES. The reply is quoted in the error as received: the logger
 * escapes control characters, so a reply holding `\n... error cert.revoked` cannot forge a log line.
 */
export async function pushOcspResponse(address: HaproxySocketAddress, der: Uint8Array, options: { timeoutMs: number; file?: string }): Promise<void> {
  const command = `set ssl ocsp-response ${Buffer.from(der).toString('base64')}\n`;
  const reply = await sendCommand(address, command, options.timeoutMs, options.file);
  if (!/OCSP Response updated/i.test(reply)) {
    throw new StaplerdError('HAPROXY_PUSH_FAILED', `HAProxy at ${describe(address)} refused the staple: ${quoteReply(reply)}`, { file: options.file });
  }
}

function quoteReply(reply: string): string {
  const trimmed = reply.trim();
  if (trimmed === '') return '(empty reply)';
  return trimmed.length > MAX_QUOTED_REPLY_CHARS ? `${trimmed.slice(0, MAX_QUOTED_REPLY_CHARS)}... (${trimmed.length} characters)` : trimmed;
}

function sendCommand(address: HaproxySocketAddress, command: string, timeoutMs: number, file: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = 'path' in address ? connect({ path: address.path }) : connect({ host: address.host, port: address.port });
    const chunks: Buffer[] = [];
    let replyBytes = 0;
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(
      () => finish(new StaplerdError('HAPROXY_TIMEOUT', `HAProxy at ${describe(address)} did not answer within ${timeoutMs} ms`, { file })),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(command));
    socket.on('data', (chunk: Buffer) => {
      replyBytes += chunk.length;
      if (replyBytes > MAX_REPLY_BYTES) {
        return finish(new StaplerdError('HAPROXY_REPLY_TOO_LARGE', `the listener at ${describe(address)} answered more than ${MAX_REPLY_BYTES} bytes; not a HAProxy runtime API reply`, { file }));
      }
      chunks.push(chunk);
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (error) => finish(new StaplerdError('HAPROXY_PUSH_FAILED', `cannot reach HAProxy at ${describe(address)}: ${error.message}`, { file }, { cause: error })));
  });
}
