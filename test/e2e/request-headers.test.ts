// What the built staplerd sends to a responder: its own User-Agent with the package version, the OCSP media types,
// and never a cookie back, even when the responder sets one (RFC 6960 Appendix A: OCSP over HTTP is stateless).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/run-cli.js';
import { createE2eFixture, expectExitCode, type E2eFixture } from './e2e-fixture.js';

let fx: E2eFixture;
let certsDir: string;
let recorder: Server;
let recorderUrl: string;
const seen: { method: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  fx = await createE2eFixture();
  certsDir = await fx.makeDir('certs');
  for (const name of ['one', 'two', 'three']) {
    await fx.pki.writeLeaf(certsDir, await fx.issueLeaf({ commonName: `${name}.test` }), 'fullchain', name);
  }
  // Records each request's headers, relays it to the real test responder, and hands out a cookie with every answer.
  recorder = createServer((req, res) => {
    seen.push({ method: req.method ?? '', headers: req.headers });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = new URL(req.url ?? '/', fx.responder.url);
      const body = req.method === 'POST' ? Buffer.concat(chunks) : undefined;
      void fetch(target, { method: req.method, body, headers: body ? { 'content-type': 'application/ocsp-request' } : {} }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': 'application/ocsp-response', 'set-cookie': 'responder-session=abc123; Path=/' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      });
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => recorder?.close(resolve));
  await fx?.close();
});

describe('requests from staplerd once', () => {
  it('carry User-Agent staplerd/<package version> and the OCSP media types, and never a cookie', async () => {
    const { version } = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };

    const result = await fx.once(['--certs', certsDir, '--responder', recorderUrl, '--concurrency', '1']);

    expectExitCode(result, 0);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const request of seen) {
      expect({
        userAgent: request.headers['user-agent'],
        accept: request.headers.accept,
        cookie: request.headers.cookie,
      }).toEqual({ userAgent: `staplerd/${version}`, accept: 'application/ocsp-response', cookie: undefined });
    }
  });
});
