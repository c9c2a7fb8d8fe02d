// The demo responder's HTTP side: an OCSP request read from a GET path or a POST body (bounded), and answers written.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A POST body past this is refused with 413 (a real OCSP request is a few hundred bytes). */
const MAX_REQUEST_BYTES = 64 * 1024;

export class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: Uint8Array,
    readonly contentType: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

/**
 * RFC 6960 Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER OCSPRequest}. Everything after the
 * first "/" is taken, since clients that skip the URL-encoding leave "/" from the base64 alphabet in the path.
 * Node's base64 decoder also accepts the base64url alphabet.
 */
export function decodeGetPath(path: string): Uint8Array | undefined {
  try {
    const encoded = decodeURIComponent(path.replace(/^\/+/, '').split('?')[0]);
    return encoded === '' ? undefined : new Uint8Array(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
}

export async function readBody(request: IncomingMessage): Promise<Uint8Array | 'too-large'> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_REQUEST_BYTES) return 'too-large';
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export function ocspAnswer(body: Uint8Array, headers: Record<string, string> = {}): HttpAnswer {
  return new HttpAnswer(200, body, 'application/ocsp-response', headers);
}

export function send(response: ServerResponse, answer: HttpAnswer): void {
  response.writeHead(answer.status, {
    'Content-Type': answer.contentType,
    'Content-Length': String(answer.body.byteLength),
    ...answer.headers,
  });
  response.end(answer.body);
}
