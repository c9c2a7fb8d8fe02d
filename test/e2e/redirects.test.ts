// End to end: `staplerd once` against a responder that redirects. A 302 between local responders is followed and the
// staple written; a 307 that would re-POST the OCSP request to another host is refused (REDIRECT_REFUSED, exit 1)
// and the existing staple stays untouched (still valid, so the pass exits 0 as docs/cli.md says).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createE2eFixture, expectExitCode, jsonEvents, verifyWithOpenssl, type E2eFixture } from './e2e-fixture.js';

/** Long enough that the GET URL passes RFC 5019's 255 bytes, so staplerd sends a POST. */
const LONG_PATH = `/long/${'x'.repeat(220)}`;

let fx: E2eFixture;
let redirector: http.Server;
let redirectorUrl: string;
let seenByRedirector: string[] = [];

beforeAll(async () => {
  fx = await createE2eFixture();
  // Sends every request on to the fixture's responder: 307 for a POST (which repeats it, body included), 302 for a GET.
  redirector = http.createServer((req, res) => {
    seenByRedirector.push(`${req.method} ${req.url}`);
    const onwards = req.method === 'POST' ? fx.responder.url : `${fx.responder.url.replace(/\/$/, '')}${(req.url ?? '/').replace(/^\/redirect/, '')}`;
    res.writeHead(req.method === 'POST' ? 307 : 302, { location: onwards, 'content-length': 0 }).end();
    req.resume();
  });
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => redirector?.close(resolve));
  await fx?.close();
});

describe('staplerd once and redirecting responders', () => {
  it('follows a 302 from a local responder to another local one and writes a good staple', async () => {
    const dir = await fx.makeDir('redirect-302/certs');
    const leaf = await fx.issueLeaf({ commonName: 'redirect-302.test', ocspUrls: [`${redirectorUrl}/redirect`] });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'site');
    seenByRedirector = [];

    expectExitCode(await fx.once(['--certs', dir]), 0);

    expect(seenByRedirector).toEqual([expect.stringMatching(/^GET \/redirect\//)]);
    expect((await verifyWithOpenssl(`${certFile}.ocsp`, await fx.writeReferencePem(leaf), fx)).status).toBe('good');
  });

  it('refuses a 307 that would re-POST the OCSP request to another host and keeps the existing staple', async () => {
    const dir = await fx.makeDir('redirect-307/certs');
    const leaf = await fx.issueLeaf({ commonName: 'redirect-307.test' });
    const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'site');
    expectExitCode(await fx.once(['--certs', dir]), 0);
    const staple = await readFile(`${certFile}.ocsp`);
    const answered = fx.responder.requestCount;
    fx.advanceResponderClock(60_000);
    seenByRedirector = [];

    const result = await fx.once(['--certs', dir, '--force', '--responder', `${redirectorUrl}${LONG_PATH}`, '--log-format', 'json']);

    expectExitCode(result, 0);
    expect(seenByRedirector).toEqual([`POST ${LONG_PATH}`]);
    expect(fx.responder.requestCount).toBe(answered);
    const failed = jsonEvents(result.stderr).find((e) => e.event === 'fetch.failed');
    expect(failed).toMatchObject({ code: 'REDIRECT_REFUSED', keptStaple: true, message: expect.stringContaining('re-send the POST body to another host') });
    expect(await readFile(`${certFile}.ocsp`)).toEqual(staple);
  });
});
