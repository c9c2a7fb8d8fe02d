// Configuration: defaults, then the YAML file, then flags; each key validated with a message naming where it came from.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG, readConfigFile, resolveConfig } from '../../src/config/index.js';
import { StaplerdError } from '../../src/errors/index.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await makeTempDir();
});

afterAll(async () => {
  await removeTempDir(root);
});

/** Writes `text` as etc/N/staplerd.yaml under the temp root and returns its absolute path. */
async function yamlFile(text: string): Promise<string> {
  counter += 1;
  const dir = path.join(root, 'etc', String(counter));
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'staplerd.yaml');
  await writeFile(file, text);
  return file;
}

async function rejection(promise: Promise<unknown>): Promise<StaplerdError> {
  await expect(promise).rejects.toBeInstanceOf(StaplerdError);
  return promise.then(
    () => {
      throw new Error('resolved');
    },
    (error: StaplerdError) => error,
  );
}

describe('resolveConfig', () => {
  it('maps YAML keys onto the configuration, converting seconds to milliseconds', async () => {
    const file = await yamlFile(
      [
        'certs: [certs]',
        'out: staples',
        'extensions: [pem, .CRT]',
        'responder: http://127.0.0.1:8080/ocsp',
        'timeout: 2.5',
        'concurrency: 8',
        'perHostConcurrency: 2',
        'maxResponseSize: 4096',
        'nonce: true',
        'clockSkew: 60',
        'minRemaining: 600',
        'onRevoked: remove',
        'logLevel: debug',
        'logFormat: json',
        "sweep: '*/5 * * * *'",
        'watchDebounce: 0.2',
        'proxy: http://proxy.test:3128',
        'metrics: 127.0.0.1:9420',
        'healthMargin: 6h',
      ].join('\n'),
    );
    const config = await resolveConfig({ flags: {}, configFile: file, cwd: root });
    const dir = path.dirname(file);
    expect(config).toEqual({
      ...DEFAULT_CONFIG,
      certs: [path.join(dir, 'certs')],
      out: path.join(dir, 'staples'),
      extensions: ['.pem', '.CRT'],
      responder: 'http://127.0.0.1:8080/ocsp',
      timeoutMs: 2500,
      concurrency: 8,
      perHostConcurrency: 2,
      maxResponseBytes: 4096,
      nonce: true,
      clockSkewMs: 60_000,
      minRemainingMs: 600_000,
      onRevoked: 'remove',
      logLevel: 'debug',
      logFormat: 'json',
      sweep: '*/5 * * * *',
      watchDebounceMs: 200,
      proxy: 'http://proxy.test:3128',
      metrics: '127.0.0.1:9420',
      healthMarginMs: 6 * 3_600_000,
      // `out` is set, so no `<crt>.issuer` files unless asked for.
      issuerFiles: false,
    });
  });

  it('resolves YAML paths against the YAML file, not the working directory', async () => {
    const file = await yamlFile('certs: ../certs\nissuerDir: ca\n');
    const config = await resolveConfig({ flags: {}, configFile: path.relative(root, file), cwd: root });
    expect(config.certs).toEqual([path.resolve(path.dirname(file), '../certs')]);
    expect(config.issuerDir).toBe(path.join(path.dirname(file), 'ca'));
  });

  it('lets flags override the YAML file, with flag paths relative to the working directory', async () => {
    const file = await yamlFile('certs: [from-yaml]\ntimeout: 30\nconcurrency: 4\n');
    const config = await resolveConfig({ flags: { certs: ['from-flag'], timeout: '2' }, configFile: file, cwd: root });
    expect(config.certs).toEqual([path.join(root, 'from-flag')]);
    expect(config.timeoutMs).toBe(2000);
    expect(config.concurrency).toBe(4);
  });

  it('takes flags alone, as commander hands them over (strings and booleans)', async () => {
    const config = await resolveConfig({
      flags: { certs: ['/srv/certs'], extensions: 'pem,crt', nonce: true, concurrency: '16', onRevoked: 'remove', force: true, logLevel: undefined },
      cwd: root,
    });
    expect(config.certs).toEqual(['/srv/certs']);
    expect(config.extensions).toEqual(['.pem', '.crt']);
    expect(config.nonce).toBe(true);
    expect(config.concurrency).toBe(16);
    expect(config.onRevoked).toBe('remove');
    expect(config.force).toBe(true);
    expect(config.logLevel).toBe(DEFAULT_CONFIG.logLevel);
  });

  it('rejects an unknown YAML key with CONFIG_INVALID naming the key and the file', async () => {
    const file = await yamlFile('certs: [certs]\ncertz: [typo]\n');
    const error = await rejection(resolveConfig({ flags: {}, configFile: file, cwd: root }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('certz');
    expect(error.file).toBe(file);
  });

  it('rejects a bad YAML value with CONFIG_INVALID naming the key and the file', async () => {
    const file = await yamlFile('certs: [certs]\nconcurrency: lots\n');
    const error = await rejection(resolveConfig({ flags: {}, configFile: file, cwd: root }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('concurrency');
    expect(error.message).toContain(file);
    expect(error.file).toBe(file);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a word for a number', { concurrency: 'lots' }, '--concurrency'],
    ['a fraction for a whole number', { concurrency: '1.5' }, '--concurrency'],
    ['a timeout out of range', { timeout: '0' }, '--timeout'],
    ['an unknown revoked action', { onRevoked: 'ignore' }, '--revoked-action'],
    ['a responder that is not http', { responder: 'ftp://127.0.0.1/ocsp' }, '--responder'],
    ['a cron expression with 3 fields', { sweep: '* * *' }, '--sweep'],
    ['an unknown log level', { logLevel: 'verbose' }, '--log-level'],
  ])('rejects %s with USAGE naming the flag', async (_name, flags, flag) => {
    const error = await rejection(resolveConfig({ flags: { certs: ['/srv/certs'], ...flags }, cwd: root }));
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain(flag);
  });

  it('requires a certificate directory unless told not to', async () => {
    const error = await rejection(resolveConfig({ flags: {}, cwd: root }));
    expect(error.code).toBe('USAGE');
    await expect(resolveConfig({ flags: {}, cwd: root, requireCerts: false })).resolves.toEqual(DEFAULT_CONFIG);
  });

  it('treats an empty YAML file as no settings', async () => {
    const file = await yamlFile('');
    const config = await resolveConfig({ flags: { certs: ['/srv/certs'] }, configFile: file, cwd: root });
    expect(config).toEqual({ ...DEFAULT_CONFIG, certs: ['/srv/certs'] });
  });
});

describe('resolveConfig: keys that are not options', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'refuses the key %s as unknown with CONFIG_INVALID naming it, not as an internal error',
    async (key) => {
      const file = await yamlFile(`certs: [certs]\n${key}: 1\n`);
      const error = await rejection(resolveConfig({ flags: {}, configFile: file, cwd: root }));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toBe(`unknown configuration key "${key}"`);
      expect(error.file).toBe(file);
    },
  );

  it.each(['1e400', '-1e400', '.inf', '.nan'])('refuses concurrency: %s showing the value as written, not null', async (written) => {
    const file = await yamlFile(`certs: [certs]\nconcurrency: ${written}\n`);
    const error = await rejection(resolveConfig({ flags: {}, configFile: file, cwd: root }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('"concurrency"');
    expect(error.message).toContain(`(got ${written})`);
    expect(error.message).not.toContain('null');
  });

  it('refuses a non-finite number given as a flag showing it as given', async () => {
    const error = await rejection(resolveConfig({ flags: { certs: ['/srv/certs'], timeout: '1e400' }, cwd: root }));
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('--timeout');
    expect(error.message).toContain('"1e400"');
  });
});

describe('resolveConfig: passwords in messages', () => {
  it('reports a YAML syntax error by line and column without quoting the line that holds the proxy password', async () => {
    const file = await yamlFile('certs: [certs]\nproxy: http://ops:s3cret@proxy.test:3128\n  timeout: : 3\n');
    const error = await rejection(resolveConfig({ flags: {}, configFile: file, cwd: root }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/not valid YAML at line 2, column \d+: /);
    expect(error.message).not.toContain('s3cret');
    expect(error.message).not.toContain('\n');
  });

  it('hides the password of a URL quoted as the bad value of another key', async () => {
    const file = await yamlFile('certs: [certs]\nresponder: ftp://ops:s3cret@ocsp.test/\n');
    const error = await rejection(resolveConfig({ flags: {}, configFile: file, cwd: root }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('ftp://ops:***@ocsp.test/');
    expect(error.message).not.toContain('s3cret');
  });

  it('names an unknown key without repeating its value', async () => {
    const file = await yamlFile('certs: [certs]\nproxyy: http://ops:s3cret@proxy.test:3128\n');
    const error = await rejection(resolveConfig({ flags: {}, configFile: file, cwd: root }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('"proxyy"');
    expect(error.message).not.toContain('s3cret');
  });
});

describe('resolveConfig: issuerFiles', () => {
  it('is on by default when staples go beside the certificates, where HAProxy looks for <crt>.issuer', async () => {
    const config = await resolveConfig({ flags: { certs: ['/srv/certs'] }, cwd: root });
    expect(config.issuerFiles).toBe(true);
  });

  it('is off by default with --out, since HAProxy would not find the staples there', async () => {
    const config = await resolveConfig({ flags: { certs: ['/srv/certs'], out: '/srv/staples' }, cwd: root });
    expect(config.issuerFiles).toBe(false);
  });

  it.each<[string, Record<string, unknown>, boolean]>([
    ['--no-issuer-files without --out', { issuerFiles: false }, false],
    ['--issuer-files with --out', { issuerFiles: true, out: '/srv/staples' }, true],
  ])('follows %s', async (_name, flags, expected) => {
    const config = await resolveConfig({ flags: { certs: ['/srv/certs'], ...flags }, cwd: root });
    expect(config.issuerFiles).toBe(expected);
  });

  it('follows issuerFiles: false in the YAML file, and a flag still wins over the file', async () => {
    const file = await yamlFile('certs: [certs]\nissuerFiles: false\n');
    expect((await resolveConfig({ flags: {}, configFile: file, cwd: root })).issuerFiles).toBe(false);
    expect((await resolveConfig({ flags: { issuerFiles: true }, configFile: file, cwd: root })).issuerFiles).toBe(true);
  });

  it('takes out from the YAML file into account when neither says anything about issuer files', async () => {
    const file = await yamlFile('certs: [certs]\nout: staples\n');
    expect((await resolveConfig({ flags: {}, configFile: file, cwd: root })).issuerFiles).toBe(false);
  });
});

describe('resolveConfig: proxy, metrics and healthMargin', () => {
  it('accepts a proxy URL with credentials and keeps it as given', async () => {
    const config = await resolveConfig({ flags: { certs: ['/srv/certs'], proxy: 'http://ops:s3cret@proxy.test:3128' }, cwd: root });
    expect(config.proxy).toBe('http://ops:s3cret@proxy.test:3128');
  });

  it('rejects a SOCKS proxy naming --proxy, without echoing the password', async () => {
    const error = await rejection(resolveConfig({ flags: { certs: ['/srv/certs'], proxy: 'socks5://ops:s3cret@proxy.test:1080' }, cwd: root }));
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('--proxy');
    expect(error.message).toContain('socks5:');
    expect(error.message).not.toContain('s3cret');
  });

  it('rejects a bad proxy key in the YAML file with CONFIG_INVALID naming the key and the file, without the password', async () => {
    const file = await yamlFile('certs: [certs]\nproxy: "https://ops:s3cret@proxy.test:3128"\n');
    const error = await rejection(resolveConfig({ flags: {}, configFile: file, cwd: root }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('"proxy"');
    expect(error.file).toBe(file);
    expect(error.message).not.toContain('s3cret');
  });

  it.each(['127.0.0.1:9420', '[::1]:9420', 'localhost:9420', '0.0.0.0:0'])('accepts the metrics address %s', async (listen) => {
    const config = await resolveConfig({ flags: { certs: ['/srv/certs'], metrics: listen }, cwd: root });
    expect(config.metrics).toBe(listen);
  });

  it.each([':9420', '9420', '127.0.0.1', '127.0.0.1:70000', '[localhost]:9420'])('rejects the metrics address %s naming --metrics', async (listen) => {
    const error = await rejection(resolveConfig({ flags: { certs: ['/srv/certs'], metrics: listen }, cwd: root }));
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('--metrics');
  });

  it('rejects a bad metrics key in the YAML file with CONFIG_INVALID naming the key and the file', async () => {
    const file = await yamlFile('certs: [certs]\nmetrics: ":9420"\n');
    const error = await rejection(resolveConfig({ flags: {}, configFile: file, cwd: root }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('"metrics"');
    expect(error.file).toBe(file);
  });

  it('has no metrics listener and a one-hour health margin by default', async () => {
    const config = await resolveConfig({ flags: { certs: ['/srv/certs'] }, cwd: root });
    expect(config.metrics).toBeUndefined();
    expect(config.healthMarginMs).toBe(3_600_000);
  });

  it.each<[unknown, number]>([
    ['90', 90_000],
    [7200, 7_200_000],
    ['45s', 45_000],
    ['30m', 1_800_000],
    ['6h', 21_600_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['0', 0],
  ])('reads the health margin %p as %p ms', async (value, expectedMs) => {
    const config = await resolveConfig({ flags: { certs: ['/srv/certs'], healthMargin: value }, cwd: root });
    expect(config.healthMarginMs).toBe(expectedMs);
  });

  it('gives responses without nextUpdate one day by default, and takes a duration from the YAML key or the flag', async () => {
    expect((await resolveConfig({ flags: { certs: ['/srv/certs'] }, cwd: root })).lifetimeWithoutNextUpdateMs).toBe(86_400_000);
    expect((await resolveConfig({ flags: { certs: ['/srv/certs'], lifetimeWithoutNextUpdate: '12h' }, cwd: root })).lifetimeWithoutNextUpdateMs).toBe(43_200_000);
    expect((await resolveConfig({ flags: { certs: ['/srv/certs'], lifetimeWithoutNextUpdate: 0 }, cwd: root })).lifetimeWithoutNextUpdateMs).toBe(0);
  });

  it.each(['forever', '-1', '8d'])('rejects the lifetime without nextUpdate %p naming --lifetime-without-next-update', async (value) => {
    const error = await rejection(resolveConfig({ flags: { certs: ['/srv/certs'], lifetimeWithoutNextUpdate: value }, cwd: root }));
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('--lifetime-without-next-update');
  });

  it.each(['soon', '-5', '6 hours', 'h', '31d'])('rejects the health margin %p naming --health-margin', async (value) => {
    const error = await rejection(resolveConfig({ flags: { certs: ['/srv/certs'], healthMargin: value }, cwd: root }));
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('--health-margin');
  });
});

describe('readConfigFile', () => {
  it('rejects invalid YAML with CONFIG_INVALID naming the file', async () => {
    const file = await yamlFile('certs: [unclosed\n  timeout: : 3\n');
    const error = await rejection(readConfigFile(file));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.file).toBe(file);
  });

  it.each([
    ['a list', '- certs\n- out\n'],
    ['a scalar', 'just a string\n'],
  ])('rejects %s at the top level with CONFIG_INVALID', async (_name, text) => {
    const file = await yamlFile(text);
    const error = await rejection(readConfigFile(file));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('mapping');
  });

  it('rejects a missing file with CONFIG_INVALID naming it', async () => {
    const file = path.join(root, 'absent.yaml');
    const error = await rejection(readConfigFile(file));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.file).toBe(file);
  });

  it('returns an empty object for a file of comments only', async () => {
    await expect(readConfigFile(await yamlFile('# nothing yet\n'))).resolves.toEqual({});
  });
});
