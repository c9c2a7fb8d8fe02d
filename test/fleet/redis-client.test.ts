// How a --fleet URL becomes ioredis options: redis:// and rediss:// go to ioredis as they are, the Sentinel form is
// parsed here; commands never queue while disconnected.
import { describe, expect, it } from '@jest/globals';
import { toRedisOptions } from '../../src/fleet/redis-client.js';

const BASE = { commandTimeoutMs: 1000, onError: () => {} };

describe('toRedisOptions', () => {
  it('hands redis:// and rediss:// URLs to ioredis with no offline queue and a command timeout', () => {
    for (const url of ['redis://127.0.0.1:6379/2', 'rediss://user:pw@redis.example:6380']) {
      const { url: given, options } = toRedisOptions({ ...BASE, url });
      expect(given).toBe(url);
      expect(options).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1000 });
    }
  });

  it('turns TLS on for rediss:// only (any case), trusting only the --fleet-ca-file CAs when given', () => {
    expect(toRedisOptions({ ...BASE, url: 'redis://h:1' }).options.tls).toBeUndefined();
    expect(toRedisOptions({ ...BASE, url: 'rediss://h:1' }).options.tls).toEqual({});
    expect(toRedisOptions({ ...BASE, url: 'REDISS://h:1' }).options.tls).toEqual({});
    expect(toRedisOptions({ ...BASE, url: 'rediss://h:1', ca: ['PEM'] }).options.tls).toEqual({ ca: ['PEM'] });
  });

  it('lets the password file win over the URL', () => {
    expect(toRedisOptions({ ...BASE, url: 'redis://:inurl@h:1', password: 'fromfile' }).options.password).toBe('fromfile');
  });

  it('parses redis-sentinel://host:port,host:port/master into sentinels and a master name', () => {
    const { url, options } = toRedisOptions({ ...BASE, url: 'redis-sentinel://app:s3cret@10.0.0.1:26379,10.0.0.2:26380,[::1]:26381/staplerd-master' });
    expect(url).toBeUndefined();
    expect(options).toMatchObject({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'staplerd-master',
      username: 'app',
      password: 's3cret',
      enableOfflineQueue: false,
    });
  });
});
