// --fleet, --fleet-prefix and --fleet-password-file: validated at start, and a password never appears in a message.
import { describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { createFleetCoordinator } from '../../src/fleet/index.js';
import { silentLogger } from '../../src/log/index.js';
import { systemClock } from '../../src/types/index.js';
import { makeTempDir, removeTempDirsAfterAll } from '../helpers/test-pki.js';

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
});
