// Test fixture: a real tls.Server on 127.0.0.1 wired to a staple handler, a client that asks for a staple, and staple builders.
import { spawn } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { connect, createServer, type ConnectionOptions, type Server } from 'node:tls';
import type { DemoAuthority, IssuedIdentity } from '../../../src/demo/demo-pki.js';
import { exportPrivateKeyPem, generateKeyPair } from '../../../src/demo/key-pair.js';
import { signOcspResponse } from '../../../src/demo/sign-ocsp-response.js';
import type { OcspRequestListener } from '../../../src/index.js';
import { makeTempDir, removeTempDirsAfterAll } from '../../helpers/test-pki.js';

export interface RunningTlsServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface StapleAnswer {
  /** What the client's 'OCSPResponse' event carried; null when the server sent no staple. */
  readonly staple: Buffer | null;
  /** The handshake verified the chain against the test root. */
  readonly authorized: boolean;
}

/**
 * `chain: 'full'` serves leaf + intermediate, so Node finds the issuer and passes it to 'OCSPRequest'; `'leaf'`
 * serves the leaf alone, so Node passes null (the issuer is in neither the chain nor the CA store).
 */
export async function startTlsServer(authority: DemoAuthority, leaf: IssuedIdentity, listener: OcspRequestListener, chain: 'full' | 'leaf' = 'full'): Promise<RunningTlsServer> {
  const cert = leaf.certificate.toPem() + (chain === 'full' ? authority.intermediate.certificate.toPem() : '');
  const server: Server = createServer({ key: await exportPrivateKeyPem(leaf.keys), cert });
  server.on('OCSPRequest', listener);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Clients that fail verification end with tlsClientError; the server must not crash on them.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** One handshake with status_request (RFC 6066 8); the intermediate is given so a leaf-only server still verifies. */
export function requestStaple(port: number, authority: DemoAuthority, servername = 'example.test'): Promise<StapleAnswer> {
  return new Promise((resolve, reject) => {
    let staple: Buffer | null = null;
    // tls.connect passes requestOCSP on to the TLSSocket (lib/_tls_wrap.js); @types/node only declares it there.
    const options: ConnectionOptions & { requestOCSP: boolean } = {
      host: '127.0.0.1',
      port,
      servername,
      requestOCSP: true,
      ca: [authority.root.certificate.toPem(), authority.intermediate.certificate.toPem()],
    };
    const socket = connect(options);
    socket.on('OCSPResponse', (response: Buffer | null) => {
      staple = response;
    });
    socket.on('secureConnect', () => {
      resolve({ staple, authorized: socket.authorized });
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** Runs `openssl s_client -status` against the server and returns what it printed. */
export function runOpensslClient(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'example.test', '-status'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve(output));
    // End of input makes s_client close the connection right after the handshake.
    child.stdin.end();
  });
}

export interface StapleOptions {
  thisUpdate: Date;
  /** null: a staple without nextUpdate (valid for a day after thisUpdate). */
  nextUpdate: Date | null;
  status?: 'good' | 'revoked' | 'unknown';
  /** Sign with a fresh key under the responder's certificate: the signature cannot verify. */
  wrongKey?: boolean;
}

/** A staple for `leaf` signed by the authority's delegated responder (RFC 6960 4.2.2.2). */
export async function signStaple(authority: DemoAuthority, leaf: IssuedIdentity, options: StapleOptions): Promise<Buffer> {
  const keys = options.wrongKey ? await generateKeyPair(authority.responder.keys.algorithm) : authority.responder.keys;
  const status = options.status ?? 'good';
  const der = await signOcspResponse({
    signer: { certificate: authority.responder.certificate, keys },
    producedAt: options.thisUpdate,
    answers: [{
      certId: { cert: leaf.certificate, issuer: authority.intermediate.certificate },
      status,
      ...(status === 'revoked' ? { revocationTime: options.thisUpdate, revocationReason: 1 } : {}),
      thisUpdate: options.thisUpdate,
      nextUpdate: options.nextUpdate,
    }],
  });
  return Buffer.from(der);
}

/** As staplerd writes staples: a temp file in the same directory renamed over the target (atomic). */
export async function replaceFile(file: string, bytes: Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.test-${process.pid}.tmp`);
  await writeFile(temp, bytes);
  await rename(temp, file);
}

/** Polls until `accept` holds, with a generous deadline (file events are asynchronous); no timing is asserted. */
export async function waitFor<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${String(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A settable clock for the handler. */
export function createTestClock(at: Date): { now(): Date; set(next: Date): void } {
  let current = at;
  return { now: () => new Date(current.getTime()), set: (next) => { current = next; } };
}

/** Makes a fresh staple directory per call (one test each); all are removed after the test file. */
export function useStapleDirs(): () => Promise<string> {
  const dirs = removeTempDirsAfterAll();
  return async () => {
    const dir = await makeTempDir('staplerd-node-tls-');
    dirs.push(dir);
    return dir;
  };
}
