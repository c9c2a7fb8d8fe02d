// The bench's OCSP responder, a separate process so its CPU never mixes with the measured client's: it pre-signs one
// answer per serial at start, then serves them from memory over HTTP/1.1 on 127.0.0.1 and counts what it saw.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readRequestSerialHex, signGoodResponse, UNAUTHORIZED_RESPONSE, type IssuerHashes } from './ocsp-messages.js';
import type { ChildMessage, DurationSummary, ParentMessage, ResponderSetup, ResponderStats } from './responder-protocol.js';

const MAX_REQUEST_BYTES = 16 * 1024;

class Counters {
  ocspRequests = 0;
  getRequests = 0;
  postRequests = 0;
  unknownOrMalformed = 0;
  otherRequests = 0;
  inFlight = 0;
  maxInFlight = 0;
  cpuAtReset = process.cpuUsage();
  resetAtMs = performance.now();
  /** Per keep-alive connection: ms from one answer's end to the next request on it (the client's dead time). */
  idleGapsMs: number[] = [];
  /** Per OCSP request: ms from its arrival to the end of its answer (the round trip the client sees, minus the wire). */
  heldMs: number[] = [];
  /** ms from the last reset (the bench resets right before it spawns a client) to the first OCSP request. */
  firstOcspRequestMs: number | undefined;

  reset(): void {
    Object.assign(this, { ocspRequests: 0, getRequests: 0, postRequests: 0, unknownOrMalformed: 0, otherRequests: 0, idleGapsMs: [], heldMs: [], firstOcspRequestMs: undefined });
    // In-flight requests carry over (there should be none between phases); the maximum starts again from them.
    this.maxInFlight = this.inFlight;
    this.cpuAtReset = process.cpuUsage();
    this.resetAtMs = performance.now();
  }

  snapshot(): ResponderStats {
    const cpu = process.cpuUsage(this.cpuAtReset);
    return {
      ocspRequests: this.ocspRequests,
      getRequests: this.getRequests,
      postRequests: this.postRequests,
      unknownOrMalformed: this.unknownOrMalformed,
      otherRequests: this.otherRequests,
      maxInFlight: this.maxInFlight,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      elapsedMs: performance.now() - this.resetAtMs,
      idleGapMs: summarise(this.idleGapsMs),
      heldMs: summarise(this.heldMs),
      firstOcspRequestMs: this.firstOcspRequestMs ?? NaN,
    };
  }
}

function summarise(values: readonly number[]): DurationSummary {
  if (values.length === 0) return { count: 0, meanMs: NaN, medianMs: NaN, p90Ms: NaN, totalMs: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const totalMs = sorted.reduce((sum, value) => sum + value, 0);
  const at = (fraction: number): number => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
  return { count: sorted.length, meanMs: totalMs / sorted.length, medianMs: at(0.5), p90Ms: at(0.9), totalMs };
}

const counters = new Counters();
/** When each keep-alive connection last finished an answer. */
const lastAnswerEndMs = new WeakMap<Socket, number>();
let answers = new Map<string, Uint8Array>();
let caDer: Uint8Array = new Uint8Array();
let latencyMs = 0;

function send(message: ChildMessage): void {
  process.send?.(message);
}

function preSign(setup: ResponderSetup): void {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const key: KeyObject = createPrivateKey({ key: Buffer.from(setup.issuerKeyPkcs8, 'base64'), format: 'der', type: 'pkcs8' });
  const issuer: IssuerHashes = { nameHash: Buffer.from(setup.nameHashHex, 'hex'), keyHash: Buffer.from(setup.keyHashHex, 'hex') };
  const window = { producedAt: new Date(setup.producedAtMs), thisUpdate: new Date(setup.thisUpdateMs), nextUpdate: new Date(setup.nextUpdateMs) };
  answers = new Map(setup.serialsHex.map((serialHex) => [serialHex, signGoodResponse(issuer, key, Buffer.from(serialHex, 'hex'), window)]));
  caDer = Buffer.from(setup.caDer, 'base64');
  latencyMs = setup.latencyMs;
  const cpu = process.cpuUsage(cpuBefore);
  send({ type: 'ready', preSignMs: performance.now() - started, preSignCpuMs: (cpu.user + cpu.system) / 1000, answers: answers.size });
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  timeConnection(request, response);
  counters.inFlight += 1;
  counters.maxInFlight = Math.max(counters.maxInFlight, counters.inFlight);
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    counters.inFlight -= 1;
  };
  response.on('finish', finish);
  response.on('close', finish);
  if (request.method === 'GET' && request.url === '/ca.der') {
    counters.otherRequests += 1;
    reply(response, 200, caDer, 'application/pkix-cert');
    return;
  }
  if (request.method === 'GET') {
    counters.getRequests += 1;
    answerOcsp(response, () => decodeGetPath(request.url ?? '/'));
    return;
  }
  if (request.method === 'POST') {
    counters.postRequests += 1;
    readBody(request).then(
      (body) => answerOcsp(response, () => body),
      () => reply(response, 413, new Uint8Array(), 'text/plain'),
    );
    return;
  }
  counters.otherRequests += 1;
  reply(response, 405, new Uint8Array(), 'text/plain');
}

/**
 * The client's dead time: on a keep-alive connection (one of the client's P politeness slots), the time from the end
 * of one answer to the arrival of the next request. Over a pass, N·(held + dead time)/P is the wall time of the
 * fetch phase, so this separates what the client loses per request from what the responder holds.
 */
function timeConnection(request: IncomingMessage, response: ServerResponse): void {
  const arrivedMs = performance.now();
  const isOcsp = request.url !== '/ca.der';
  if (isOcsp && counters.firstOcspRequestMs === undefined) counters.firstOcspRequestMs = arrivedMs - counters.resetAtMs;
  const socket = request.socket;
  const previousEndMs = lastAnswerEndMs.get(socket);
  if (previousEndMs !== undefined) counters.idleGapsMs.push(arrivedMs - previousEndMs);
  response.on('finish', () => {
    const endMs = performance.now();
    lastAnswerEndMs.set(socket, endMs);
    if (isOcsp) counters.heldMs.push(endMs - arrivedMs);
  });
}

/** RFC 6960 Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER OCSPRequest}. */
function decodeGetPath(path: string): Uint8Array {
  return Buffer.from(decodeURIComponent(path.replace(/^\/+/, '')), 'base64');
}

function answerOcsp(response: ServerResponse, readRequest: () => Uint8Array): void {
  counters.ocspRequests += 1;
  let answer: Uint8Array | undefined;
  try {
    answer = answers.get(readRequestSerialHex(readRequest()));
  } catch {
    answer = undefined;
  }
  if (!answer) counters.unknownOrMalformed += 1;
  const body = answer ?? UNAUTHORIZED_RESPONSE;
  if (latencyMs > 0) setTimeout(() => reply(response, 200, body, 'application/ocsp-response'), latencyMs);
  else reply(response, 200, body, 'application/ocsp-response');
}

function reply(response: ServerResponse, status: number, body: Uint8Array, contentType: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': body.byteLength });
  response.end(body);
}

function readBody(request: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new Error('request too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function startServer(): void {
  const server = createServer(handle);
  // Clients keep connections alive between requests; a sweep pausing between phases must not see them reset early.
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => send({ type: 'listening', port: (server.address() as AddressInfo).port }));
  server.on('error', (error) => send({ type: 'error', message: String(error) }));
  process.on('disconnect', () => process.exit(0));
}

process.on('message', (message: ParentMessage) => {
  try {
    if (message.type === 'setup') preSign(message.setup);
    else if (message.type === 'reset') {
      counters.reset();
      send({ type: 'reply', id: message.id });
    } else if (message.type === 'stats') send({ type: 'reply', id: message.id, stats: counters.snapshot() });
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) });
  }
});

startServer();
