// The next request for a responder leaves before the answer that freed its politeness slot is validated (issue 13).
import { describe, it, expect, afterAll } from '@jest/globals';
import { Worker } from 'node:worker_threads';
import { createHttpClient } from '../../src/ocsp/http-client.js';
import { createHostLimiter } from '../../src/ocsp/host-limiter.js';
import { fetchOcspResponse } from '../../src/ocsp/fetch-ocsp-response.js';

/**
 * A responder on its own thread, so it sees a request arrive while the test's main thread is busy validating. It
 * answers at once and reports, per request path, the wall-clock instant the request arrived.
 */
const RESPONDER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
const arrivals = {};
const server = http.createServer((req, res) => {
  arrivals[req.url] = Date.now();
  res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': 5 });
  res.end(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x00]));
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message === 'arrivals') parentPort.postMessage({ arrivals });
  if (message === 'close') server.close(() => parentPort.close());
});
`;

/** How long the first answer's validation keeps the main thread busy: far longer than any scheduling noise. */
const BUSY_VALIDATION_MS = 1000;

function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve) => worker.once('message', resolve));
}

function busyWait(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Synchronous work, as decoding and checking an answer is.
  }
}

const worker = new Worker(RESPONDER_SOURCE, { eval: true });
const http = createHttpClient({ userAgent: 'staplerd-test/1.0' });

afterAll(async () => {
  http.close();
  worker.postMessage('close');
  await new Promise((resolve) => worker.once('exit', resolve));
});

describe('fetchOcspResponse handing a slot over', () => {
  it('sends the request waiting for the slot before it validates the answer that freed it', async () => {
    const { port } = await nextMessage<{ port: number }>(worker);
    const url = `http://127.0.0.1:${port}/`;
    // One slot for the host: the second fetch waits until the first one's answer has arrived.
    const options = { http, limiter: createHostLimiter({ perHost: 1, global: 4 }), timeoutMs: 5000, userAgent: 'staplerd-test/1.0' };
    let validationStartedAt = 0;
    const first = fetchOcspResponse([url], new Uint8Array([1, 2, 3]), async (der) => {
      validationStartedAt = Date.now();
      busyWait(BUSY_VALIDATION_MS);
      return der;
    }, options);
    const second = fetchOcspResponse([url], new Uint8Array([4, 5, 6]), async (der) => der, options);
    await Promise.all([first, second]);

    worker.postMessage('arrivals');
    const { arrivals } = await nextMessage<{ arrivals: Record<string, number> }>(worker);
    const secondPath = Object.keys(arrivals).find((path) => path.endsWith(encodeURIComponent(Buffer.from([4, 5, 6]).toString('base64'))));
    expect(secondPath).toBeDefined();
    expect(validationStartedAt).toBeGreaterThan(0);
    // Held back behind the validation, the request could not arrive before the busy wait ended.
    expect(arrivals[secondPath!]! - validationStartedAt).toBeLessThan(BUSY_VALIDATION_MS / 2);
  });
});
