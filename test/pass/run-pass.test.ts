// A whole pass: discovery, one fetch per distinct leaf, where issuers come from, and the `once` success rule.
import { describe, it, expect } from '@jest/globals';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isPassSuccessful, runPass, type PassReport, type TargetOutcome } from '../../src/pass/index.js';
import { createPassFixture, OCSP_URL, readStaple, T0, usePassSuite } from './pass-fixture.js';

const CA_ISSUERS_URL = 'http://127.0.0.1:9/intermediate.der';

const suite = usePassSuite();

describe('runPass', () => {
  it('fetches a leaf found in two files once and writes the staple to both', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    const leaf = await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] });
    const first = await suite.pki.writeLeaf(fx.dir, leaf, 'fullchain', 'a');
    const second = await suite.pki.writeLeaf(fx.dir, leaf, 'haproxy', 'b');
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    expect(outcome.certFiles).toEqual([first.certFile, second.certFile]);
    expect(outcome.changedFiles).toEqual([`${first.certFile}.ocsp`, `${second.certFile}.ocsp`]);
    expect(fx.http.ocspRequestCount).toBe(1);
    const [a, b] = await Promise.all([readFile(`${first.certFile}.ocsp`), readFile(`${second.certFile}.ocsp`)]);
    expect(a).toEqual(b);
  });

  it('asks the HTTP client to get ready before its first request when a certificate has no staple, and not when all have', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: 'one.test' }), 'fullchain', 'one');
    await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: 'two.test' }), 'fullchain', 'two');
    /** The requests already sent each time the pass called prepare(). */
    const requestsAtPrepare: number[] = [];
    Object.assign(fx.http, {
      prepare: async () => {
        requestsAtPrepare.push(fx.http.ocspRequestCount);
      },
    });
    const cold = await fx.pass();
    expect(cold.outcomes.map((o) => o.kind)).toEqual(['written', 'written']);
    expect(requestsAtPrepare).toEqual([0]);
    const warm = await fx.pass();
    expect(warm.outcomes.map((o) => o.kind)).toEqual(['fresh', 'fresh']);
    expect(requestsAtPrepare).toEqual([0]);
  });

  it('processes each distinct leaf and reports files that are not certificates', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: 'one.test' }), 'fullchain', 'one');
    await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: 'two.test' }), 'fullchain', 'two');
    const broken = path.join(fx.dir, 'broken.pem');
    await writeFile(broken, '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n');
    const report = await fx.pass();
    const byKind = (kind: TargetOutcome['kind']) => report.outcomes.filter((o) => o.kind === kind);
    expect(byKind('written').map((o) => o.subject).sort()).toEqual(['CN=one.test', 'CN=two.test']);
    expect(byKind('failed')).toEqual([expect.objectContaining({ certFiles: [broken], code: 'CERT_PARSE_FAILED' })]);
    expect(fx.logger.events.find((e) => e.event === 'cert.invalid')?.fields.file).toBe(broken);
    expect(fx.http.ocspRequestCount).toBe(2);
  });

  it('takes targets round-robin over responder hosts, so a host later in discovery order does not wait for the first', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    const busyHost = 'http://127.0.0.1:9/ocsp';
    const otherHost = 'http://127.0.0.2:9/ocsp';
    // Discovery order (file names sorted): the busy host's three leaves first, then the other host's one.
    for (const name of ['a1', 'a2', 'a3']) await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [busyHost], commonName: `${name}.test` }), 'fullchain', name);
    await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [otherHost], commonName: 'b1.test' }), 'fullchain', 'b1');
    const report = await fx.pass({ concurrency: 1 });
    const hosts = fx.http.requests.map((req) => new URL(req.url).host);
    expect(hosts).toEqual(['127.0.0.1:9', '127.0.0.2:9', '127.0.0.1:9', '127.0.0.1:9']);
    // Outcomes stay in discovery order whatever order they were fetched in.
    expect(report.outcomes.map((o) => o.subject)).toEqual(['CN=a1.test', 'CN=a2.test', 'CN=a3.test', 'CN=b1.test']);
  });

  it("reports progress against discovery's estimate first and ends at the exact total, failed inputs included", async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    for (const name of ['one', 'two']) await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], commonName: `${name}.test` }), 'fullchain', name);
    await writeFile(path.join(fx.dir, 'broken.pem'), 'not a certificate');
    const calls: [number, number][] = [];
    const deps = { clock: fx.clock, random: () => 0.5, logger: fx.logger, http: fx.http };
    await runPass({ config: fx.config, deps, history: fx.history, onProgress: (done, total) => calls.push([done, total]) });
    expect(calls[0]).toEqual([0, 2]);
    expect(calls.at(-1)).toEqual([3, 3]);
    expect(calls.filter(([done, total]) => done > total)).toEqual([]);
  });

  it('reports the clock at the start and end of the pass', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    const report = await fx.pass();
    expect(report.startedAt).toEqual(T0);
    expect(report.finishedAt).toEqual(T0);
    expect(report.outcomes).toEqual([]);
  });
});

describe('finding the issuer', () => {
  it('uses the issuer inside the certificate file', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'fullchain');
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    expect(outcome.issuerSource).toBe('file');
  });

  it('finds the issuer in a sibling chain.pem', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    const leaf = await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] });
    const site = path.join(fx.dir, 'site');
    await mkdir(site);
    await writeFile(path.join(site, 'cert.pem'), leaf.certificate.toPem());
    await writeFile(path.join(site, 'chain.pem'), suite.pki.authority.intermediate.certificate.toPem());
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    expect(outcome.issuerSource).toBe('sibling');
    expect(outcome.issuerPem).toBe(suite.pki.authority.intermediate.certificate.toPem());
    expect((await readStaple(suite.pki, path.join(site, 'cert.pem.ocsp'), leaf, T0))?.certStatus).toBe('good');
  });

  it('finds the issuer in the issuer directory', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    const certs = path.join(fx.dir, 'certs');
    const cas = path.join(fx.dir, 'cas');
    await mkdir(certs);
    await mkdir(cas);
    await suite.pki.writeCaFiles(cas);
    await suite.pki.writeLeaf(certs, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'leaf');
    const outcome = await fx.passOne({ certs: [certs], issuerDir: cas });
    expect(outcome.kind).toBe('written');
    expect(outcome.issuerSource).toBe('issuer-dir');
  });

  it('downloads the issuer from the AIA caIssuers URL', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    fx.http.caIssuers.set(CA_ISSUERS_URL, suite.pki.authority.intermediate.certificate.der);
    await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], caIssuersUrls: [CA_ISSUERS_URL] }), 'leaf');
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('written');
    expect(outcome.issuerSource).toBe('aia');
    expect(fx.http.requests.filter((req) => req.url === CA_ISSUERS_URL)).toHaveLength(1);
  });

  it('fails with ISSUER_NOT_FOUND naming the file when no source has the issuer', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    const { certFile } = await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'leaf');
    const outcome = await fx.passOne();
    expect(outcome.kind).toBe('failed');
    expect(outcome.code).toBe('ISSUER_NOT_FOUND');
    expect(outcome.certFiles).toEqual([certFile]);
    expect(outcome.hasGoodStaple).toBe(false);
    expect(fx.http.requests).toHaveLength(0);
    const event = fx.logger.events.find((e) => e.event === 'issuer.not_found');
    expect(event?.level).toBe('error');
    expect(event?.fields.file).toBe(certFile);
    expect(event?.fields.code).toBe('ISSUER_NOT_FOUND');
  });

  it('names the caIssuers URL that failed in the ISSUER_NOT_FOUND message', async () => {
    const fx = await createPassFixture(suite.pki, suite.dirs);
    fx.http.failWith = { statusCode: 404 };
    await suite.pki.writeLeaf(fx.dir, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], caIssuersUrls: [CA_ISSUERS_URL] }), 'leaf');
    const outcome = await fx.passOne();
    expect(outcome.code).toBe('ISSUER_NOT_FOUND');
    expect(outcome.message).toContain(CA_ISSUERS_URL);
  });
});

describe('isPassSuccessful', () => {
  const outcome = (kind: TargetOutcome['kind'], hasGoodStaple: boolean): TargetOutcome => ({
    kind,
    hasGoodStaple,
    certFiles: ['/certs/a.pem'],
    stapleFiles: ['/certs/a.pem.ocsp'],
    changedFiles: [],
  });
  const report = (...outcomes: TargetOutcome[]): PassReport => ({ startedAt: T0, finishedAt: T0, outcomes });

  it.each<[string, boolean, TargetOutcome[]]>([
    ['no certificates', true, []],
    ['a written good staple', true, [outcome('written', true)]],
    ['a fresh staple', true, [outcome('fresh', true)]],
    ['a failed fetch that kept a good staple', true, [outcome('failed', true)]],
    ['no OCSP URL', true, [outcome('not-applicable', false)]],
    ['an expired certificate', true, [outcome('expired-certificate', false)]],
    ['a failed fetch without a staple', false, [outcome('failed', false)]],
    ['a revoked certificate', false, [outcome('revoked', false)]],
    ['backing off without a staple', false, [outcome('backing-off', false)]],
    ['unknown without a staple', false, [outcome('unknown', false)]],
    ['unknown while an older good staple is kept', false, [outcome('unknown', true)]],
    ['one bad among good ones', false, [outcome('written', true), outcome('failed', false), outcome('not-applicable', false)]],
  ])('%s: successful = %s', (_name, expected, outcomes) => {
    expect(isPassSuccessful(report(...outcomes))).toBe(expected);
  });
});
