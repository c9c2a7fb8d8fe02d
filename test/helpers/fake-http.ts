// A fake HttpClient for scheduler and daemon tests: signs OCSP answers on demand at a test clock, counts requests,
// serves AIA caIssuers bodies, and can fail or hold requests. No sockets are opened.
import type { CertState } from '../../src/demo/ocsp-responder.js';
import type { DemoAuthority } from '../../src/demo/demo-pki.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../../src/ocsp/http-client.js';
import type { Certificate } from '../../src/pki/certificate.js';
import { parseOcspRequest, signOcspResponse, type RequestedCertId } from '../../src/demo/sign-ocsp-response.js';
import type { Clock } from '../../src/types/clock.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  #ms: number;
  constructor(start: Date) {
    this.#ms = start.getTime();
  }
  now(): Date {
    return new Date(this.#ms);
  }
  advance(ms: number): void {
    this.#ms += ms;
  }
  set(at: Date): void {
    this.#ms = at.getTime();
  }
}

export interface AnswerTimes {
  /** Default: clock.now() - 1 min, as production responders backdate slightly. */
  thisUpdate?: Date;
  /** Default thisUpdate + validityMs; null leaves nextUpdate out of the answer. */
  nextUpdate?: Date | null;
}

/** Signs a response for `cert` with the intermediate's own key (issuer-signed, RFC 6960 4.2.2.2). */
export function signTestResponse(
  authority: DemoAuthority,
  certId: RequestedCertId | Certificate,
  /** nextUpdate null: a response without nextUpdate (staplerd accepts it for lifetimeWithoutNextUpdate after thisUpdate). */
  options: { state?: CertState; thisUpdate: Date; nextUpdate: Date | null; nonce?: Uint8Array },
): Promise<Uint8Array> {
  const state = options.state ?? { status: 'good' };
  const id = 'serialHex' in certId ? certId : { cert: certId, issuer: authority.intermediate.certificate };
  return signOcspResponse({
    signer: authority.intermediate,
    producedAt: options.thisUpdate,
    nonce: options.nonce,
    answers: [
      {
        certId: id,
        status: state.status,
        thisUpdate: options.thisUpdate,
        nextUpdate: options.nextUpdate,
        ...(state.status === 'revoked' ? { revocationTime: state.revocationTime, revocationReason: state.reason } : {}),
      },
    ],
  });
}

export interface FakeHttpResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

export class FakeOcspHttp implements HttpClient {
  /** Every request received, in order (OCSP and caIssuers). */
  readonly requests: HttpRequest[] = [];
  /** Bodies served for exact caIssuers URLs. */
  readonly caIssuers = new Map<string, Uint8Array>();
  /** When set, every OCSP request is answered with this instead of a signed response. */
  failWith?: FakeHttpResponse;
  /** Per-request failure (e.g. only one responder URL): an answer to send instead, or undefined to answer normally. */
  failWhen?: (req: HttpRequest) => FakeHttpResponse | undefined;
  /** Fixed answer times (e.g. to replay an older response); default follows the clock. */
  answerTimes?: AnswerTimes;
  validityMs = 24 * HOUR_MS;
  readonly #states = new Map<string, CertState>();
  #held?: { promise: Promise<void>; release: () => void };
  #waiting = 0;

  constructor(
    private readonly authority: DemoAuthority,
    private readonly clock: Clock,
  ) {}

  /** OCSP requests only (not caIssuers downloads). */
  get ocspRequestCount(): number {
    return this.requests.filter((req) => !this.caIssuers.has(req.url)).length;
  }

  /** Requests currently held by hold(). */
  get waitingCount(): number {
    return this.#waiting;
  }

  setStatus(serialHex: string, state: CertState): void {
    this.#states.set(serialHex.toLowerCase(), state);
  }

  /** Makes requests wait until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.#held = { promise, release };
    return () => {
      this.#held = undefined;
      release();
    };
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    if (this.#held) {
      this.#waiting += 1;
      try {
        await this.#held.promise;
      } finally {
        this.#waiting -= 1;
      }
    }
    const caIssuer = this.caIssuers.get(req.url);
    if (caIssuer) return { statusCode: 200, headers: { 'content-type': 'application/pkix-cert' }, body: caIssuer };
    const failure = this.failWith ?? this.failWhen?.(req);
    if (failure) return { statusCode: failure.statusCode, headers: failure.headers ?? {}, body: failure.body ?? new Uint8Array() };
    const parsed = parseOcspRequest(decodeRequest(req));
    const certId = parsed.certIds[0]!;
    const thisUpdate = this.answerTimes?.thisUpdate ?? new Date(this.clock.now().getTime() - MINUTE_MS);
    const nextUpdate = this.answerTimes?.nextUpdate === null ? null : (this.answerTimes?.nextUpdate ?? new Date(thisUpdate.getTime() + this.validityMs));
    const state = this.#states.get(certId.serialHex.toLowerCase()) ?? { status: 'good' };
    const body = await signTestResponse(this.authority, certId, { state, thisUpdate, nextUpdate, nonce: parsed.nonce });
    return { statusCode: 200, headers: { 'content-type': 'application/ocsp-response' }, body };
  }
}

/** RFC 6960 Appendix A.1: POST carries the DER; GET carries it base64 and url-encoded as the last path segment. */
function decodeRequest(req: HttpRequest): Uint8Array {
  if (req.method === 'POST') return req.body ?? new Uint8Array();
  const path = new URL(req.url).pathname;
  return new Uint8Array(Buffer.from(decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)), 'base64'));
}
