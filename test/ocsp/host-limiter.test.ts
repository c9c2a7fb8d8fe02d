// Per-host and global concurrency limits, observed both at a real server and with hand-released tasks.
import { describe, it, expect, afterAll } from '@jest/globals';
import { createHttpClient } from '../../src/ocsp/http-client.js';
import { createHostLimiter, hostOf, interleaveByHost } from '../../src/ocsp/host-limiter.js';
import { respond, startLocalServer, type LocalServer } from './local-server.js';

/** A task the test finishes by hand, so "running" is unambiguous without timers. */
function deferred(): { task: () => Promise<string>; started: () => boolean; finish: (value: string) => void; fail: (error: Error) => void } {
  let resolve!: (value: string) => void;
  let reject!: (error: Error) => void;
  let began = false;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    task: () => {
      began = true;
      return promise;
    },
    started: () => began,
    finish: (value) => resolve(value),
    fail: (error) => reject(error),
  };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createHostLimiter at a real server', () => {
  const http = createHttpClient({ userAgent: 'staplerd-test/1.0' });
  let server: LocalServer | undefined;

  afterAll(async () => {
    http.close();
    await server?.close();
  });

  it('never lets more than perHost requests reach one host at once', async () => {
    let current = 0;
    let peak = 0;
    server = await startLocalServer((_req, res) => {
      current += 1;
      peak = Math.max(peak, current);
      res.on('finish', () => {
        current -= 1;
      });
      // Hold each answer briefly so that unlimited concurrency would pile requests up at the server.
      setTimeout(() => respond(res, 200, Buffer.from('ok')), 20);
    });
    const limiter = createHostLimiter({ perHost: 4, global: 50 });
    const url = `${server.url}/ocsp`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        limiter.run(url, () => http.request({ method: 'GET', url, headers: {}, timeoutMs: 5000, maxBodyBytes: 1024 })),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    expect(server.requests).toHaveLength(20);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(4);
    expect(limiter.inFlight()).toBe(0);
  });
});

describe('createHostLimiter', () => {
  it('queues tasks beyond perHost until one finishes', async () => {
    const limiter = createHostLimiter({ perHost: 2, global: 10 });
    const tasks = [deferred(), deferred(), deferred()];
    const runs = tasks.map((t) => limiter.run('http://ocsp.a.example/x', t.task));
    expect(tasks.map((t) => t.started())).toEqual([true, true, false]);
    expect(limiter.inFlight('ocsp.a.example')).toBe(2);
    tasks[0]!.finish('first');
    await expect(runs[0]).resolves.toBe('first');
    await flush();
    expect(tasks[2]!.started()).toBe(true);
    tasks[1]!.finish('second');
    tasks[2]!.finish('third');
    await expect(Promise.all(runs)).resolves.toEqual(['first', 'second', 'third']);
    expect(limiter.inFlight()).toBe(0);
  });

  it('lets a task for an idle host pass one waiting on a busy host', () => {
    const limiter = createHostLimiter({ perHost: 1, global: 10 });
    const busy = deferred();
    const waiting = deferred();
    const other = deferred();
    void limiter.run('http://busy.example/', busy.task);
    void limiter.run('http://busy.example/', waiting.task);
    void limiter.run('http://idle.example/', other.task);
    expect([busy.started(), waiting.started(), other.started()]).toEqual([true, false, true]);
    expect(limiter.inFlight()).toBe(2);
  });

  it('holds every host to the global limit', async () => {
    const limiter = createHostLimiter({ perHost: 5, global: 2 });
    const tasks = [deferred(), deferred(), deferred()];
    const runs = tasks.map((t, i) => limiter.run(`http://host${i}.example/`, t.task));
    expect(tasks.map((t) => t.started())).toEqual([true, true, false]);
    tasks[1]!.finish('b');
    await runs[1];
    await flush();
    expect(tasks[2]!.started()).toBe(true);
    expect(limiter.inFlight()).toBe(2);
  });

  it('frees the slot of a task that fails', async () => {
    const limiter = createHostLimiter({ perHost: 1, global: 1 });
    const failing = deferred();
    const next = deferred();
    const failed = limiter.run('http://a.example/', failing.task);
    const queued = limiter.run('http://a.example/', next.task);
    failing.fail(new Error('boom'));
    await expect(failed).rejects.toThrow('boom');
    await flush();
    expect(next.started()).toBe(true);
    next.finish('ok');
    await expect(queued).resolves.toBe('ok');
  });

  it('frees the slot of a task that throws synchronously', async () => {
    const limiter = createHostLimiter({ perHost: 1, global: 1 });
    await expect(limiter.run('http://a.example/', () => { throw new Error('sync'); })).rejects.toThrow('sync');
    expect(limiter.inFlight('a.example')).toBe(0);
  });

  it('rejects limits that are not positive integers', () => {
    expect(() => createHostLimiter({ perHost: 0, global: 1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => createHostLimiter({ perHost: 1, global: 1.5 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('interleaveByHost', () => {
  const hostOfLabel = (label: string): string | undefined => (label.startsWith('-') ? undefined : label[0]);

  it('takes one item per host in turn, in first-seen host order, keeping each host\'s own order', () => {
    expect(interleaveByHost(['a1', 'a2', 'a3', 'b1', 'c1', 'c2'], hostOfLabel)).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  });

  it('keeps items without a host as one group of their own and loses or repeats nothing', () => {
    const items = ['-x', 'a1', '-y', 'a2', 'b1'];
    const ordered = interleaveByHost(items, hostOfLabel);
    expect(ordered).toEqual(['-x', 'a1', 'b1', '-y', 'a2']);
    expect([...ordered].sort()).toEqual([...items].sort());
  });

  it('returns an empty list for no items', () => {
    expect(interleaveByHost([], hostOfLabel)).toEqual([]);
  });

  it('keys hosts as the limiter does: host and non-default port', () => {
    expect(hostOf('http://ocsp.example.test:8080/a')).toBe('ocsp.example.test:8080');
    expect(hostOf('http://ocsp.example.test:80/a')).toBe('ocsp.example.test');
    expect(hostOf('not a url')).toBe('not a url');
  });
});
