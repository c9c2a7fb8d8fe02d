// End to end: `staplerd once` through an outbound HTTP proxy on 127.0.0.1, from --proxy, the proxy: key or
// HTTP_PROXY (NO_PROXY honoured), for OCSP and AIA caIssuers requests alike; bad proxy values exit 2.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exportPrivateKeyPem } from '../../src/demo/key-pair.js';
import { runCli, startDaemon } from '../helpers/run-cli.js';
import { closedPortUrl, createE2eFixture, exists, expectExitCode, jsonEvents, verifyWithOpenssl, type E2eFixture } from './e2e-fixture.js';

/** A minimal forward proxy: absolute-form requests (`GET http://host/path`) are forwarded; it records what it saw. */
interface TestProxy {
  readonly url: string;
  /** Request targets as received, e.g. `http://127.0.0.1:41234/MEIw...`. */
  readonly seen: string[];
  close(): Promise<void>;
}

async function startProxy(): Promise<TestProxy> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let fx: E2eFixture;
let proxy: TestProxy;
/** The fixture's responder URL without the trailing slash, as the proxy sees the start of every OCSP GET target. */
let responderPrefix: string;
let counter = 0;

/** Nothing from the test runner's own environment: these tests decide which proxy variables the child sees. */
const NO_PROXY_ENV = { HTTP_PROXY: '', http_proxy: '', HTTPS_PROXY: '', https_proxy: '', NO_PROXY: '', no_proxy: '' };

beforeAll(async () => {
  fx = await createE2eFixture();
  proxy = await startProxy();
  responderPrefix = fx.responder.url.replace(/\/$/, '');
});

afterAll(async () => {
  await proxy?.close();
  await fx?.close();
});

/** A new directory with one certificate (full chain) whose responder is the fixture's. */
async function certificate(): Promise<{ dir: string; certFile: string; ref: string }> {
  counter += 1;
  const dir = await fx.makeDir(`proxy-${counter}/certs`);
  const leaf = await fx.issueLeaf({ commonName: `proxy-${counter}.test` });
  const { certFile } = await fx.pki.writeLeaf(dir, leaf, 'fullchain', 'site');
  return { dir, certFile, ref: await fx.writeReferencePem(leaf) };
}

function seenSince(mark: number): string[] {
  return proxy.seen.slice(mark);
}

describe('staplerd once through a proxy', () => {
  it('sends the OCSP request through --proxy and writes a good staple', async () => {
    const { dir, certFile, ref } = await certificate();
    const mark = proxy.seen.length;

    const result = await fx.once(['--certs', dir, '--proxy', proxy.url], NO_PROXY_ENV);

    expectExitCode(result, 0);
    expect(seenSince(mark)).toEqual([expect.stringMatching(new RegExp(`^${responderPrefix}/`))]);
    expect((await verifyWithOpenssl(`${certFile}.ocsp`, ref, fx)).status).toBe('good');
  });

  it('takes the proxy from the proxy: key of the configuration file', async () => {
    const { dir } = await certificate();
    const configFile = path.join(path.dirname(dir), 'staplerd.yaml');
    await writeFile(configFile, `certs: [certs]\nproxy: ${proxy.url}\n`);
    const mark = proxy.seen.length;

    expectExitCode(await fx.once(['--config', configFile], NO_PROXY_ENV), 0);

    expect(seenSince(mark)).toHaveLength(1);
  });

  it('honours HTTP_PROXY from the environment', async () => {
    const { dir, certFile } = await certificate();
    const mark = proxy.seen.length;

    const result = await fx.once(['--certs', dir], { ...NO_PROXY_ENV, HTTP_PROXY: proxy.url });

    expectExitCode(result, 0);
    expect(seenSince(mark)).toEqual([expect.stringMatching(new RegExp(`^${responderPrefix}/`))]);
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
  });

  it('connects directly to hosts listed in NO_PROXY', async () => {
    const { dir, certFile } = await certificate();
    const mark = proxy.seen.length;

    const result = await fx.once(['--certs', dir], { ...NO_PROXY_ENV, HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });

    expectExitCode(result, 0);
    expect(seenSince(mark)).toEqual([]);
    expect(await exists(`${certFile}.ocsp`)).toBe(true);
  });

  it("downloads a missing issuer from the certificate's caIssuers URL through the proxy too", async () => {
    const caServer = http.createServer((req, res) => {
      const der = fx.pki.authority.intermediate.certificate.der;
      res.writeHead(200, { 'content-type': 'application/pkix-cert', 'content-length': der.length }).end(Buffer.from(der));
    });
    await new Promise<void>((resolve) => caServer.listen(0, '127.0.0.1', resolve));
    try {
      const caIssuersUrl = `http://127.0.0.1:${(caServer.address() as AddressInfo).port}/intermediate.der`;
      const dir = await fx.makeDir('proxy-aia/certs');
      const leaf = await fx.issueLeaf({ commonName: 'proxy-aia.test', caIssuersUrls: [caIssuersUrl] });
      // Key and leaf only: the issuer is nowhere on disk.
      const certFile = path.join(dir, 'site.pem');
      await writeFile(certFile, (await exportPrivateKeyPem(leaf.keys)) + leaf.certificate.toPem(), { mode: 0o600 });
      const mark = proxy.seen.length;

      const result = await fx.once(['--certs', dir, '--proxy', proxy.url], NO_PROXY_ENV);

      expectExitCode(result, 0);
      const seen = seenSince(mark);
      expect(seen).toContain(caIssuersUrl);
      expect(seen.filter((target) => target.startsWith(`${responderPrefix}/`))).toHaveLength(1);
      expect((await verifyWithOpenssl(`${certFile}.ocsp`, await fx.writeReferencePem(leaf), fx)).status).toBe('good');
    } finally {
      await new Promise((resolve) => caServer.close(resolve));
    }
  });

  it('fails with FETCH_NETWORK naming the proxy when the proxy is down, and exits 1', async () => {
    const { dir, certFile } = await certificate();
    const deadProxy = (await closedPortUrl()).replace(/\/$/, '');

    const result = await fx.once(['--certs', dir, '--proxy', deadProxy, '--log-format', 'json'], NO_PROXY_ENV);

    expectExitCode(result, 1);
    const failed = jsonEvents(result.stderr).find((e) => e.event === 'fetch.failed');
    expect(failed).toMatchObject({ code: 'FETCH_NETWORK', message: expect.stringContaining(`via proxy ${deadProxy}`) });
    expect(await exists(`${certFile}.ocsp`)).toBe(false);
  });
});

describe('bad proxy values', () => {
  it.each(['once', 'status'])('makes %s exit 2 naming --proxy, without printing the password', async (command) => {
    const { dir } = await certificate();
    const requests = fx.responder.requestCount;

    const result = await runCli([command, '--certs', dir, '--proxy', 'socks5://ops:s3cret@127.0.0.1:1080'], { env: { ...fx.env, ...NO_PROXY_ENV } });

    expectExitCode(result, 2);
    expect(result.stderr).toContain('--proxy');
    expect(result.stderr).not.toContain('s3cret');
    expect(fx.responder.requestCount).toBe(requests);
  });

  it('makes once exit 2 with CONFIG_INVALID naming HTTP_PROXY when the environment holds an unusable proxy', async () => {
    const { dir } = await certificate();
    const result = await fx.once(['--certs', dir], { ...NO_PROXY_ENV, HTTP_PROXY: 'https://ops:s3cret@proxy.test:3128' });
    expectExitCode(result, 2);
    expect(result.stderr).toContain('CONFIG_INVALID');
    expect(result.stderr).toContain('HTTP_PROXY');
    expect(result.stderr).not.toContain('s3cret');
  });
});

describe('proxy passwords in configuration errors', () => {
  it.each<[string, string]>([
    ['a YAML syntax error on the line after it', 'proxy: http://ops:s3cret@127.0.0.1:3128\n  timeout: : 3\n'],
    ['a bad value quoting a URL with a password', 'proxy: http://ops:s3cret@127.0.0.1:3128\nresponder: ftp://ops:s3cret@127.0.0.1/\n'],
    ['an unknown key holding it', 'proxyy: http://ops:s3cret@127.0.0.1:3128\n'],
  ])('never prints it to stderr for %s, and once exits 2', async (_name, yaml) => {
    const { dir } = await certificate();
    const configFile = path.join(path.dirname(dir), 'staplerd.yaml');
    await writeFile(configFile, `certs: [certs]\n${yaml}`);

    const result = await fx.once(['--config', configFile], NO_PROXY_ENV);

    expectExitCode(result, 2);
    expect(result.stderr).toContain('CONFIG_INVALID');
    expect(result.stderr).toContain(configFile);
    expect(result.stderr).not.toContain('s3cret');
  });

  it.each<[string, string, string]>([
    ['a YAML syntax error', '  timeout: : 3\n', 'not valid YAML at line 3'],
    ['a bad value quoting a URL with a password', 'responder: ftp://ops:s3cret@127.0.0.1/\n', '"responder"'],
    ['an unknown key holding it', 'proxyy: http://ops:s3cret@127.0.0.1:3128\n', '"proxyy"'],
  ])('never logs it when a SIGHUP reload of run finds %s, and keeps running', async (_name, broken, named) => {
    const { dir } = await certificate();
    const configFile = path.join(path.dirname(dir), 'staplerd.yaml');
    const valid = `certs: [certs]\nlogFormat: json\nproxy: http://ops:s3cret@${proxy.url.replace('http://', '')}\n`;
    await writeFile(configFile, valid);
    const daemon = startDaemon(['--config', configFile], { env: { ...fx.env, ...NO_PROXY_ENV } });
    try {
      await daemon.waitForLog('"daemon.ready"', 20_000);
      await writeFile(configFile, `${valid}${broken}`);
      const mark = daemon.output().length;

      daemon.child.kill('SIGHUP');
      await daemon.waitForLog('"daemon.reload_failed"', 20_000, mark);

      const failed = jsonEvents(daemon.output().slice(mark)).find((e) => e.event === 'daemon.reload_failed');
      expect(failed).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(named) });
      expect(daemon.output()).not.toContain('s3cret');
      expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await daemon.stop('SIGKILL');
    }
  });
});
