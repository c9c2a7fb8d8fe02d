// The queue the pass's workers take targets from: one responder host at a time in turn, while discovery still adds.
import { describe, it, expect } from '@jest/globals';
import { HostRotationQueue } from '../../src/pass/host-rotation-queue.js';

function queueOf(items: readonly string[]): HostRotationQueue<string> {
  const queue = new HostRotationQueue<string>();
  // The label's letter is its host: a1 and a2 share host "a".
  for (const item of items) queue.push(item, item[0]);
  return queue;
}

function drainNow(queue: HostRotationQueue<string>): string[] {
  const taken: string[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) taken.push(item);
  return taken;
}

describe('HostRotationQueue', () => {
  it('hands out everything queued up front one host at a time in turn, as interleaveByHost orders it', () => {
    expect(drainNow(queueOf(['a1', 'a2', 'a3', 'b1', 'c1', 'c2']))).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  });

  it('serves a host that arrives later before the host it just served', () => {
    const queue = queueOf(['a1']);
    expect(queue.shift()).toBe('a1');
    queue.push('a2', 'a');
    queue.push('a3', 'a');
    queue.push('b1', 'b');
    expect(drainNow(queue)).toEqual(['b1', 'a2', 'a3']);
  });

  it('puts a host that comes back after the hosts served since', () => {
    const queue = queueOf(['a1', 'b1', 'c1', 'c2']);
    expect([queue.shift(), queue.shift()]).toEqual(['a1', 'b1']);
    // a was served before b: back in the rotation, it goes before b but after c, which was never served.
    queue.push('b2', 'b');
    queue.push('a2', 'a');
    expect(drainNow(queue)).toEqual(['c1', 'a2', 'b2', 'c2']);
  });

  it('keeps targets without a responder host in a rotation slot of their own', () => {
    const queue = new HostRotationQueue<string>();
    queue.push('none1', undefined);
    queue.push('a1', 'a');
    queue.push('none2', undefined);
    expect(drainNow(queue)).toEqual(['none1', 'a1', 'none2']);
  });

  it('lets a taker wait for the next item, and tells every taker there are no more once closed and empty', async () => {
    const queue = new HostRotationQueue<string>();
    const first = queue.take();
    const second = queue.take();
    queue.push('a1', 'a');
    await expect(first).resolves.toBe('a1');
    queue.close();
    await expect(second).resolves.toBeUndefined();
    await expect(queue.take()).resolves.toBeUndefined();
  });

  it('still hands out what was queued before it was closed', async () => {
    const queue = queueOf(['a1', 'b1']);
    queue.close();
    await expect(queue.take()).resolves.toBe('a1');
    await expect(queue.take()).resolves.toBe('b1');
    await expect(queue.take()).resolves.toBeUndefined();
  });
});
