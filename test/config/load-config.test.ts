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
