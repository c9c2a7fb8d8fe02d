// An in-process OCSP responder over plain HTTP on 127.0.0.1 (RFC 6960 Appendix A), with injectable faults.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { generateKeyPair, type KeyPair } from './key-pair.js';
import { decodeGetPath, HttpAnswer, ocspAnswer, readBody, send } from './ocsp-http.js';
import {
  encodeOcspErrorResponse,
  isCertIdIssuedBy,
  parseOcspRequest,
  signOcspResponse,
  type RequestedCertId,
  type SingleAnswer,
} from './sign-ocsp-response.js';
import type { DemoAuthority, IssuedIdentity } from './demo-pki.js';

export type CertState = { status: 'good' } | { status: 'revoked'; revocationTime: Date; reason?: number } | { status: 'unknown' };

export type Fault =
  | 'none'
  | 'http-500'
  | 'html'
  | 'truncated'
  | 'oversized'
  | 'wrong-key'
  | 'other-serial'
  | 'try-later'
  | 'expired'
  | 'no-next-update'
  | 'hang'
  /** thisUpdate/producedAt 2 h older than a normal answer, so older than the previous one. */
  | 'stale'
  /** GET answers 404, POST works (RFC 5019 clients fall back to POST). */
  | 'get-404';

export interface ResponderOptions {
  authority: DemoAuthority;
  /** Default 127.0.0.1: tests and the demo never listen beyond loopback. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Who signs answers for the intermediate's certificates; default 'delegated'. The root always signs for itself. */
  signBy?: 'issuer' | 'delegated';
  /** nextUpdate - thisUpdate; default 24 h. */
  validityMs?: number;
  now?: () => Date;
  /** Default: every certificate is good. setStatus overrides it. */
  statusFor?: (serialHex: string) => CertState;
  /** Sent as HTTP Retry-After with 'try-later' and 'http-500'. */
  retryAfterSeconds?: number;
}

export interface LoggedRequest {
  method: 'GET' | 'POST';
  /** Serial of the first CertID, when the request parsed. */
  serialHex?: string;
  nonce?: boolean;
}

export interface RunningResponder {
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  readonly requestCount: number;
  /** The most requests that were being answered at the same time. */
  readonly maxInFlight: number;
  readonly requests: readonly LoggedRequest[];
  setFault(fault: Fault): void;
  setStatus(serialHex: string, state: CertState): void;
  close(): Promise<void>;
}

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const DEFAULT_VALIDITY_MS = 24 * HOUR_MS;
// Past the 64 KiB body limit clients are expected to enforce.
const OVERSIZED_BYTES = 64 * 1024 + 1024;

export async function startOcspResponder(options: ResponderOptions): Promise<RunningResponder> {
  const responder = new OcspResponder(options);
  await responder.listen();
  return responder;
}

class OcspResponder implements RunningResponder {
  url = '';
  requestCount = 0;
  maxInFlight = 0;
  readonly requests: LoggedRequest[] = [];
  readonly #options: ResponderOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #states = new Map<string, CertState>();
  #fault: Fault = 'none';
  #inFlight = 0;
  #wrongKeys?: Promise<KeyPair>;

  constructor(options: ResponderOptions) {
    this.#options = options;
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  async listen(): Promise<void> {
    const host = this.#options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port ?? 0, host, () => resolve());
    });
    const { port } = this.#server.address() as AddressInfo;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  }

  setFault(fault: Fault): void {
    this.#fault = fault;
  }

  setStatus(serialHex: string, state: CertState): void {
    this.#states.set(normalizeSerialHex(serialHex), state);
  }

  /** Destroys open sockets too, so keep-alive connections and 'hang' requests do not hold the process. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.requestCount += 1;
    this.#inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    response.on('close', () => {
      this.#inFlight -= 1;
    });
    try {
      const answer = await this.#answer(request);
      if (answer) send(response, answer);
    } catch {
      send(response, ocspAnswer(encodeOcspErrorResponse('internalError')));
    }
  }

  /** Returns undefined for 'hang': the request stays open until close() destroys its socket. */
  async #answer(request: IncomingMessage): Promise<HttpAnswer | undefined> {
    const method = request.method === 'GET' || request.method === 'POST' ? request.method : undefined;
    if (!method) return new HttpAnswer(405, Buffer.from('method not allowed\n'), 'text/plain', { Allow: 'GET, POST' });
    const fault = this.#fault;
    if (method === 'GET' && fault === 'get-404') {
      this.requests.push({ method });
      return new HttpAnswer(404, Buffer.from('not found\n'), 'text/plain');
    }
    const der = method === 'GET' ? decodeGetPath(request.url ?? '/') : await readBody(request);
    if (der === 'too-large') return new HttpAnswer(413, Buffer.from('request too large\n'), 'text/plain');
    let parsed: ReturnType<typeof parseOcspRequest>;
    try {
      parsed = parseOcspRequest(der ?? new Uint8Array());
    } catch {
      this.requests.push({ method });
      return ocspAnswer(encodeOcspErrorResponse('malformedRequest'));
    }
    this.requests.push({ method, serialHex: parsed.certIds[0].serialHex, nonce: parsed.nonce !== undefined });
    return this.#answerParsed(parsed, fault);
  }

  async #answerParsed(parsed: ReturnType<typeof parseOcspRequest>, fault: Fault): Promise<HttpAnswer | undefined> {
    switch (fault) {
      case 'hang':
        return undefined;
      case 'http-500':
        return new HttpAnswer(500, Buffer.from('internal server error\n'), 'text/plain', this.#retryAfterHeader());
      case 'html':
        return new HttpAnswer(200, Buffer.from('<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>\n'), 'text/html');
      case 'try-later':
        return ocspAnswer(encodeOcspErrorResponse('tryLater'), this.#retryAfterHeader());
      default:
    }
    const signed = await this.#sign(parsed, fault);
    if (signed instanceof HttpAnswer) return signed;
    if (fault === 'truncated') return ocspAnswer(signed.subarray(0, Math.floor(signed.length / 2)));
    if (fault === 'oversized') return ocspAnswer(padTo(signed, OVERSIZED_BYTES));
    return ocspAnswer(signed);
  }

  async #sign(parsed: ReturnType<typeof parseOcspRequest>, fault: Fault): Promise<Uint8Array | HttpAnswer> {
    const issuers = parsed.certIds.map((certId) => this.#findIssuer(certId));
    const issuer = issuers[0];
    // One signature covers every answer, so all CertIDs must share an issuer this responder serves.
    if (!issuer || issuers.some((other) => other !== issuer)) return ocspAnswer(encodeOcspErrorResponse('unauthorized'));
    const signer = await this.#signerFor(issuer, fault);
    const { producedAt, thisUpdate, nextUpdate } = this.#timesFor(fault);
    const answers = parsed.certIds.map((certId): SingleAnswer => {
      const answered = fault === 'other-serial' ? { ...certId, serialHex: nextSerialHex(certId.serialHex) } : certId;
      return { certId: answered, thisUpdate, nextUpdate, ...this.#statusAnswer(certId.serialHex) };
    });
    return signOcspResponse({ signer, producedAt, answers, nonce: parsed.nonce });
  }

  #findIssuer(certId: RequestedCertId): IssuedIdentity | undefined {
    const { intermediate, root } = this.#options.authority;
    return [intermediate, root].find((candidate) => isCertIdIssuedBy(certId, candidate.certificate));
  }

  async #signerFor(issuer: IssuedIdentity, fault: Fault): Promise<IssuedIdentity> {
    const { authority } = this.#options;
    const delegate = issuer === authority.intermediate && (this.#options.signBy ?? 'delegated') === 'delegated';
    const signer = delegate ? authority.responder : issuer;
    if (fault !== 'wrong-key') return signer;
    // Same certificate (so the same responderID), different key: the signature cannot verify.
    this.#wrongKeys ??= generateKeyPair(signer.keys.algorithm);
    return { certificate: signer.certificate, keys: await this.#wrongKeys };
  }

  #timesFor(fault: Fault): { producedAt: Date; thisUpdate: Date; nextUpdate: Date | null } {
    const validityMs = this.#options.validityMs ?? DEFAULT_VALIDITY_MS;
    const now = (this.#options.now ?? (() => new Date()))().getTime();
    // A minute in the past absorbs small clock differences, as production responders do.
    let thisUpdateMs = now - MINUTE_MS;
    if (fault === 'stale') thisUpdateMs -= 2 * HOUR_MS;
    if (fault === 'expired') thisUpdateMs -= validityMs + HOUR_MS;
    const thisUpdate = new Date(thisUpdateMs);
    const nextUpdate = fault === 'no-next-update' ? null : new Date(thisUpdateMs + validityMs);
    return { producedAt: thisUpdate, thisUpdate, nextUpdate };
  }

  #statusAnswer(serialHex: string): Pick<SingleAnswer, 'status' | 'revocationTime' | 'revocationReason'> {
    const state = this.#states.get(normalizeSerialHex(serialHex)) ?? this.#options.statusFor?.(serialHex) ?? { status: 'good' };
    if (state.status !== 'revoked') return { status: state.status };
    return { status: 'revoked', revocationTime: state.revocationTime, revocationReason: state.reason };
  }

  #retryAfterHeader(): Record<string, string> {
    const seconds = this.#options.retryAfterSeconds;
    return seconds === undefined ? {} : { 'Retry-After': String(seconds) };
  }
}

/** A complete response followed by zero padding: a valid DER prefix, too large for a careful client to accept. */
function padTo(bytes: Uint8Array, size: number): Uint8Array {
  const padded = new Uint8Array(Math.max(size, bytes.length));
  padded.set(bytes);
  return padded;
}

/** The CertificateSummary.serialHex spelling (whole bytes, no leading zero bytes), whatever case or padding was given. */
function normalizeSerialHex(serialHex: string): string {
  const stripped = serialHex.toLowerCase().replace(/^0+/, '');
  if (stripped === '') return '00';
  return stripped.length % 2 === 1 ? `0${stripped}` : stripped;
}

/** A different, still positive serial: the requested one plus one. */
function nextSerialHex(serialHex: string): string {
  return (BigInt(`0x${serialHex}`) + 1n).toString(16);
}
