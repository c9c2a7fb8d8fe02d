// --fleet, --fleet-prefix, --fleet-password-file and --fleet-ca-file: validated at start, and a password never appears in a message.
import { describe, expect, it } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { createFleetCoordinator } from '../../src/fleet/index.js';
import { silentLogger } from '../../src/log/index.js';
import { systemClock } from '../../src/types/index.js';
import { createTestPki, makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

const dirs = removeTempDirsAfterAll();

describe('fleet options', () => {
  it('takes redis://, rediss:// and redis-sentinel:// URLs and defaults the prefix to staplerd:', async () => {
    for (const fleet of ['redis://127.0.0.1:6379', 'rediss://u:p@redis.example:6380/1', 'redis-sentinel://10.0.0.1:26379,10.0.0.2/master']) {
      const config = await resolveConfig({ flags: { certs: ['certs'], fleet } });
      expect(config.fleet).toBe(fleet);
      expect(config.fleetPrefix).toBe('staplerd:');
    }
  });

  it('refuses another scheme as a usage error (exit 2), never echoing the password', async () => {
    const promise = resolveConfig({ flags: { certs: ['certs'], fleet: 'http://user:hunter2@redis.example/' } });
    await expect(promise).rejects.toMatchObject({ code: 'USAGE' });
    await expect(promise).rejects.toThrow(/--fleet/);
    await expect(promise).rejects.not.toThrow(/hunter2/);
    await expect(resolveConfig({ flags: { certs: ['certs'], fleet: 'redis-sentinel://a:1,b:2' } })).rejects.toThrow(/master name/);
  });

  it('refuses a prefix with spaces or too long', async () => {
    await expect(resolveConfig({ flags: { certs: ['certs'], fleetPrefix: 'a b' } })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(resolveConfig({ flags: { certs: ['certs'], fleetPrefix: 'x'.repeat(65) } })).rejects.toMatchObject({ code: 'USAGE' });
    expect((await resolveConfig({ flags: { certs: ['certs'], fleetPrefix: 'eu-west:' } })).fleetPrefix).toBe('eu-west:');
  });

  it('reads the password file at start: a missing or multi-line file is CONFIG_INVALID naming the file', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const settings = { url: 'redis://127.0.0.1:1', prefix: 'staplerd:', timeoutMs: 1000, maxResponseBytes: 65536 };
    const missing = path.join(dir, 'missing');
    expect(() => createFleetCoordinator({ ...settings, passwordFile: missing }, { clock: systemClock, logger: silentLogger })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', file: missing }));
    const twoLines = path.join(dir, 'two-lines');
    await writeFile(twoLines, 'one\ntwo\n');
    expect(() => createFleetCoordinator({ ...settings, passwordFile: twoLines }, { clock: systemClock, logger: silentLogger })).toThrow(/one line/);
    const good = path.join(dir, 'good');
    await writeFile(good, 'secret\n');
    expect(createFleetCoordinator({ ...settings, passwordFile: good }, { clock: systemClock, logger: silentLogger }).health().connected).toBe(false);
  });

  it('takes --fleet-ca-file (YAML fleetCaFile) with rediss:// only: with redis:// or redis-sentinel:// it is CONFIG_INVALID', async () => {
    const withTls = await resolveConfig({ flags: { certs: ['certs'], fleet: 'rediss://redis.example:6380', fleetCaFile: 'ca.pem' }, cwd: '/etc/staplerd' });
    expect(withTls.fleetCaFile).toBe('/etc/staplerd/ca.pem');
    for (const fleet of ['redis://127.0.0.1:6379', 'redis-sentinel://10.0.0.1:26379/master']) {
      const promise = resolveConfig({ flags: { certs: ['certs'], fleet, fleetCaFile: 'ca.pem' } });
      await expect(promise).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(promise).rejects.toThrow(/--fleet-ca-file/);
    }
    const dir = await makeTempDir();
    dirs.push(dir);
    const file = path.join(dir, 'staplerd.yaml');
    await writeFile(file, 'fleet: redis://127.0.0.1:6379\nfleetCaFile: ca.pem\n');
    await expect(resolveConfig({ flags: { certs: ['certs'] }, configFile: file })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('reads the CA file at start: missing, not regular, oversized or not PEM is CONFIG_INVALID naming the file', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const settings = { url: 'rediss://127.0.0.1:1', prefix: 'staplerd:', timeoutMs: 1000, maxResponseBytes: 65536 };
    const create = (caFile: string) => () => createFleetCoordinator({ ...settings, caFile }, { clock: systemClock, logger: silentLogger });
    const refused = async (caFile: string, message: RegExp): Promise<void> => {
      expect(create(caFile)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', file: caFile }));
      expect(create(caFile)).toThrow(message);
    };
    await refused(path.join(dir, 'missing'), /--fleet-ca-file .*missing: cannot be read/);
    const directory = path.join(dir, 'a-directory');
    await mkdir(directory);
    await refused(directory, /not a regular file/);
    const huge = path.join(dir, 'huge.pem');
    await writeFile(huge, Buffer.alloc(1024 * 1024 + 1, 0x41));
    await refused(huge, /bytes allowed/);
    const text = path.join(dir, 'text.pem');
    await writeFile(text, 'not a certificate\n');
    await refused(text, /is not PEM/);
    const keyOnly = path.join(dir, 'key.pem');
    await writeFile(keyOnly, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    await refused(keyOnly, /no PEM CERTIFICATE block/);
    const garbage = path.join(dir, 'garbage.pem');
    await writeFile(garbage, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await refused(garbage, /does not parse/);
    const pki = await createTestPki();
    const { rootFile } = await pki.writeCaFiles(dir);
    expect(create(rootFile)().health().connected).toBe(false);
  });
});
