// SIGHUP coalescing: at most one reload running and one waiting, however many requests arrive.
import { describe, expect, it } from '@jest/globals';
import { ReloadQueue } from '../../src/daemon/reload-queue.js';

/** A reload the test finishes by hand, counting how many were started. */
function controlledReloads(): { queue: ReloadQueue; started: () => number; finishCurrent: () => Promise<void>; errors: unknown[] } {
  const finishers: (() => void)[] = [];
  const errors: unknown[] = [];
  let count = 0;
  const queue = new ReloadQueue(
    () =>
      new Promise<void>((resolve) => {
        count++;
        finishers.push(resolve);
      }),
    (error) => errors.push(error),
  );
  return {
    queue,
    started: () => count,
    errors,
    async finishCurrent() {
      finishers.shift()?.();
      // Let the queue's continuation run (a few microtask turns), no timers.
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
  };
}

describe('ReloadQueue', () => {
  it('starts a reload at once when none is running', () => {
    const { queue, started } = controlledReloads();
    queue.request();
    expect(started()).toBe(1);
  });

  it('merges any number of requests made during a reload into exactly one follow-up reload', async () => {
    const { queue, started, finishCurrent } = controlledReloads();
    queue.request();
    for (let i = 0; i < 300; i++) queue.request();
    expect(started()).toBe(1);
    await finishCurrent();
    expect(started()).toBe(2);
    await finishCurrent();
    await queue.idle();
    expect(started()).toBe(2);
  });

  it('runs one more reload for requests made during the follow-up, and none when nothing was asked for', async () => {
    const { queue, started, finishCurrent } = controlledReloads();
    queue.request();
    queue.request();
    await finishCurrent();
    queue.request();
    queue.request();
    await finishCurrent();
    expect(started()).toBe(3);
    await finishCurrent();
    await queue.idle();
    expect(started()).toBe(3);
    queue.request();
    expect(started()).toBe(4);
  });

  it('starts nothing more once closed, but lets the running reload finish', async () => {
    const { queue, started, finishCurrent } = controlledReloads();
    queue.request();
    queue.request();
    queue.close();
    queue.request();
    await finishCurrent();
    await queue.idle();
    expect(started()).toBe(1);
  });

  it('keeps serving requests after a reload threw, reporting the error', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const queue = new ReloadQueue(async () => {
      calls++;
      if (calls === 1) throw new Error('broken');
    }, (error) => errors.push(error));
    queue.request();
    queue.request();
    await queue.idle();
    expect(calls).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['broken']);
  });
});
