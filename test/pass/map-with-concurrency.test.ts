// Bounded parallel map: order kept, limit respected, abort stops new work.
import { describe, it, expect } from '@jest/globals';
import { mapWithConcurrency } from '../../src/pass/map-with-concurrency.js';

/** A task that finishes when the test says so, recording how many run at once. */
function gatedTasks() {
  let running = 0;
  let maxRunning = 0;
  const started: number[] = [];
  const releases = new Map<number, () => void>();
  const task = async (item: number): Promise<string> => {
    started.push(item);
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    await new Promise<void>((resolve) => releases.set(item, resolve));
    running -= 1;
    return `r${item}`;
  };
  return { task, started, releases, maxRunning: () => maxRunning };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('mapWithConcurrency', () => {
  it('returns results in item order even when tasks finish out of order', async () => {
    const results = await mapWithConcurrency([30, 10, 20], 3, async (delay, index) => {
      await new Promise((resolve) => setTimeout(resolve, delay));
      return `${index}:${delay}`;
    });
    expect(results).toEqual(['0:30', '1:10', '2:20']);
  });

  it('never runs more than the limit at once', async () => {
    const gate = gatedTasks();
    const done = mapWithConcurrency([1, 2, 3, 4, 5], 2, gate.task);
    await flush();
    expect(gate.started).toEqual([1, 2]);
    gate.releases.get(1)!();
    await flush();
    expect(gate.started).toEqual([1, 2, 3]);
    for (const item of [2, 3, 4, 5]) {
      await flush();
      gate.releases.get(item)!();
    }
    expect(await done).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(gate.maxRunning()).toBe(2);
  });

  it('starts no new item once the signal is aborted, and lets running ones finish', async () => {
    const gate = gatedTasks();
    const controller = new AbortController();
    const done = mapWithConcurrency([1, 2, 3], 1, gate.task, controller.signal);
    await flush();
    controller.abort();
    gate.releases.get(1)!();
    const results = await done;
    expect(gate.started).toEqual([1]);
    expect(results[0]).toBe('r1');
    expect(results[1]).toBeUndefined();
  });

  it('returns an empty array for no items', async () => {
    await expect(mapWithConcurrency([], 4, async () => 1)).resolves.toEqual([]);
  });
});
