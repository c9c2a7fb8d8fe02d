// A pass over a slow responder host and a fast one: the fast host's targets are not held back behind the slow one's.
import { describe, it, expect } from '@jest/globals';
import { runPass } from '../../src/pass/index.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../../src/ocsp/http-client.js';
import { createPassFixture, usePassSuite } from './pass-fixture.js';

const suite = usePassSuite();

const SLOW_URL = 'http://127.0.0.1:9/ocsp';
const FAST_URL = 'http://127.0.0.2:9/ocsp';
const SLOW_HOST = new URL(SLOW_URL).host;
const FAST_HOST = new URL(FAST_URL).host;
/** Only a pass stuck on the slow host goes this long without a request; a passing run never waits for it. */
const STALL_MS = 3_000;

/**
 * The fixture's fake responder behind a gate: the slow host's requests wait until `releaseSlow()`, the fast host's are
 * answered at once. `fastStarted` resolves once `fastTotal` fast requests have started, or when no request has
 * started for STALL_MS (a pass whose every worker waits on the slow host).
 */
function gatedTransport(inner: HttpClient, fastTotal: number) {
  const starts: string[] = [];
  let slowInFlight = 0;
  let maxSlowInFlight = 0;
  let releaseSlow!: () => void;
  const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
  let reportFastStarted!: () => void;
  const fastStarted = new Promise<void>((resolve) => (reportFastStarted = resolve));
  let stallTimer = setTimeout(reportFastStarted, STALL_MS);
  const http: HttpClient = {
    async request(req: HttpRequest): Promise<HttpResponse> {
      const host = new URL(req.url).host;
      starts.push(host);
      clearTimeout(stallTimer);
      if (starts.filter((started) => started === FAST_HOST).length === fastTotal) reportFastStarted();
      else stallTimer = setTimeout(reportFastStarted, STALL_MS);
      if (host === SLOW_HOST) {
        slowInFlight += 1;
        maxSlowInFlight = Math.max(maxSlowInFlight, slowInFlight);
        await slowGate;
        slowInFlight -= 1;
      }
      return inner.request(req);
    },
  };
  const stop = (): void => clearTimeout(stallTimer);
  return { http, starts, fastStarted, releaseSlow, stop, maxSlowInFlight: () => maxSlowInFlight };
}

describe('runPass with a slow and a fast responder host', () => {
  it("fetches every fast host's target while the slow host holds all its slots", async () => {
    // P = 2 slots per host, 3P workers: the slow host gets its 2 slots and spares at its limiter, but the last P
    // workers take no spare, so 2 are always left for the fast host. Before session 7 each worker took whatever
    // target came next and stayed with a slow one until it answered: all 6 ended up waiting on the slow host.
    const config = { perHostConcurrency: 2, concurrency: 6 };
    const fx = await createPassFixture(suite.pki, suite.dirs, config);
    const slowNames = ['a01', 'a02', 'a03', 'a04', 'a05', 'a06'];
    const fastNames = Array.from({ length: 12 }, (_, index) => `b${String(index + 1).padStart(2, '0')}`);
    // Discovery order (file names sorted): the slow host's leaves first.
    for (const name of slowNames) await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [SLOW_URL], commonName: `${name}.test` }), 'fullchain', name);
    for (const name of fastNames) await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [FAST_URL], commonName: `${name}.test` }), 'fullchain', name);
    const transport = gatedTransport(fx.http, fastNames.length);
    try {
      const deps = { clock: fx.clock, random: () => 0.5, logger: fx.logger, http: transport.http };
      const pass = runPass({ config: fx.config, deps, history: fx.history });
      await transport.fastStarted;
      const fastStartedWhileSlowHeld = transport.starts.filter((host) => host === FAST_HOST).length;
      const slowStartedWhileHeld = transport.starts.filter((host) => host === SLOW_HOST).length;
      transport.releaseSlow();
      const report = await pass;
      expect({ fastStartedWhileSlowHeld, slowStartedWhileHeld }).toEqual({ fastStartedWhileSlowHeld: fastNames.length, slowStartedWhileHeld: 2 });
      expect(report.outcomes.map((outcome) => outcome.kind)).toEqual(Array(slowNames.length + fastNames.length).fill('written'));
      // The limiter still lets no more than P requests reach the slow host at once.
      expect(transport.maxSlowInFlight()).toBe(2);
    } finally {
      transport.stop();
    }
  });
});
