// Pushes a staple into a running HAProxy through its runtime API (`set ssl ocsp-response`), memory only.
import { connect, type Socket } from 'node:net';
import { StaplerdError } from '../errors/index.js';

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
 * HAProxy's CLI in non-interactive mode answers one command and closes the connection. 2.6 and later answer
 * "OCSP Response updated!" on success; anything else ("Unable to parse OCSP response.", "OCSP single response:
 * Certificate ID does not match any certificate or issuer.", "Permission denied") is a failure. The socket must be
 * at `level admin` (HAProxy management guide, "set ssl ocsp-response").
 */
export async function pushOcspResponse(address: HaproxySocketAddress, der: Uint8Array, options: { timeoutMs: number; file?: string }): Promise<void> {
  const command = `set ssl ocsp-response ${Buffer.from(der).toString('base64')}\n`;
  const reply = await sendCommand(address, command, options.timeoutMs);
  if (!/OCSP Response updated/i.test(reply)) {
    throw new StaplerdError('HAPROXY_PUSH_FAILED', `HAProxy at ${describe(address)} refused the staple: ${reply.trim() || '(empty reply)'}`, { file: options.file });
  }
}

function sendCommand(address: HaproxySocketAddress, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = 'path' in address ? connect({ path: address.path }) : connect({ host: address.host, port: address.port });
    let reply = '';
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply);
    };
    const timer = setTimeout(
      () => finish(new StaplerdError('HAPROXY_PUSH_FAILED', `HAProxy at ${describe(address)} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(command));
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (error) => finish(new StaplerdError('HAPROXY_PUSH_FAILED', `cannot reach HAProxy at ${describe(address)}: ${error.message}`, {}, { cause: error })));
  });
}
