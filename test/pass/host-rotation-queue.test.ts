// The queue the pass's workers take targets from: one responder host at a time in turn, hosts with a free slot first.
import { describe, it, expect } from '@jest/globals';
import { HostRotationQueue, type HostRotationQueueOptions, type TakenItem } from '../../src/pass/host-rotation-queue.js';

/** An item's host is its label's letter (a1 and a2 share host "a"); "_" stands for no host (no OCSP URL). */
function hostOfLabel(label: string): string | undefined {
  return label.startsWith('_') ? undefined : label[0];
}

function queueOf(items: readonly string[], options?: HostRotationQueueOptions): HostRotationQueue<string> {
  const queue = new HostRotationQueue<string>(options);
  for (const item of items) queue.push(item, hostOfLabel(item));
  return queue;
}

function drainNow(queue: HostRotationQueue<string>): string[] {
  const taken: string[] = [];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) taken.push(next.item);
  return taken;
}

/**
 * Plays `steps` on a queue: `+a1` pushes a1, `>` takes without waiting, `-a1` says a1 is done. Returns what each `>`
 * gave, `.` when nothing could be taken.
 */
function play(steps: string, options: HostRotationQueueOptions): string {
  const queue = new HostRotationQueue<string>(options);
  const held = new Map<string, TakenItem<string>>();
  const taken: string[] = [];
  for (const step of steps.split(/\s+/).filter(Boolean)) {
    if (step.startsWith('+')) {
      queue.push(step.slice(1), hostOfLabel(step.slice(1)));
    } else if (step === '>') {
      const next = queue.shift();
      if (next) held.set(next.item, next);
      taken.push(next?.item ?? '.');
    } else if (step.startsWith('-')) {
      const item = held.get(step.slice(1));
      if (!item) throw new Error(`step ${step}: ${step.slice(1)} was not taken`);
      item.done();
    } else {
      throw new Error(`unknown step ${step}`);
    }
  }
  return taken.join(' ');
}

/** Lets every promise callback and pending wake-up run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** A taker that must wait now: it gets nothing until `release` runs, then `expected`. */
async function expectTakerToWaitFor(queue: HostRotationQueue<string>, release: () => void, expected: string): Promise<void> {
  let waited: string | undefined;
  const waiting = queue.take().then((taken) => (waited = taken?.item));
  await settle();
  expect(waited).toBeUndefined();
  release();
  await waiting;
  expect(waited).toBe(expected);
}

describe('HostRotationQueue', () => {
  it('hands out everything queued up front one host at a time in turn, as interleaveByHost orders it', () => {
    expect(drainNow(queueOf(['a1', 'a2', 'a3', 'b1', 'c1', 'c2']))).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  });

  it('serves a host that arrives later before the host it just served', () => {
    const queue = queueOf(['a1']);
    expect(queue.shift()?.item).toBe('a1');
    queue.push('a2', 'a');
    queue.push('a3', 'a');
    queue.push('b1', 'b');
    expect(drainNow(queue)).toEqual(['b1', 'a2', 'a3']);
  });

  it('puts a host that comes back after the hosts served since', () => {
    const queue = queueOf(['a1', 'b1', 'c1', 'c2']);
    expect([queue.shift()?.item, queue.shift()?.item]).toEqual(['a1', 'b1']);
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

  // Host "a" is the slow one in these stories: its items are done last, if at all.
  it.each([
    {
      rule: 'a host whose slots are all taken is skipped while another host with a free slot has items waiting',
      options: { slotsPerHost: 2, workers: 6 },
      steps: '+a1 +a2 +a3 +a4 +b1 +b2 +b3 +b4  > > > >  -b1 >  -b3 >  -b2 >',
      taken: 'a1 b1 a2 b2 b3 b4 a3',
    },
    {
      rule: 'hosts with a free slot keep least-recently-served order among themselves',
      options: { slotsPerHost: 1, workers: 4 },
      steps: '+a1 +a2 +b1 +b2 +c1 +c2  > > >  -c1 -b1 > >  -a1 >',
      taken: 'a1 b1 c1 b2 c2 a2',
    },
    {
      rule: 'when every host is full, a spare comes from the host with the fewest taken, then least recently served',
      options: { slotsPerHost: 1 },
      // After b2, a was served less recently but holds two items to b's one: b3 is the spare.
      steps: '+a1 +a2 +a3 +b1 +b2 +b3  > > >  -b1 >  > >',
      taken: 'a1 b1 a2 b2 b3 a3',
    },
    {
      rule: 'the last slotsPerHost workers take no spare, and a host that shows up then still gets its free slot',
      options: { slotsPerHost: 2, workers: 5 },
      steps: '+a1 +a2 +a3 +a4  > > > >  +b1 > >  -b1 >  -a1 >',
      taken: 'a1 a2 a3 . b1 . . a4',
    },
    {
      rule: 'items without a responder host are never held back',
      options: { slotsPerHost: 1, workers: 2 },
      steps: '+a1 +a2 +_1 +_2 +_3  > > > > >',
      taken: 'a1 _1 _2 _3 .',
    },
    {
      rule: 'an item said done twice counts once',
      options: { slotsPerHost: 1, workers: 2 },
      steps: '+a1 +a2 +a3  > -a1 -a1 > >',
      taken: 'a1 a2 .',
    },
    {
      rule: 'without slotsPerHost the rotation alone decides, as before session 7',
      options: {},
      steps: '+a1 +a2 +a3 +b1 +b2  > > > > >',
      taken: 'a1 b1 a2 b2 a3',
    },
  ])('$rule', ({ options, steps, taken }) => {
    expect(play(steps, options)).toBe(taken);
  });

  it('counts per host the items taken and not yet done', () => {
    const queue = queueOf(['a1', 'a2', 'b1'], { slotsPerHost: 4 });
    const first = queue.shift()!;
    queue.shift();
    queue.shift();
    expect([queue.takenCount('a'), queue.takenCount('b')]).toEqual([2, 1]);
    first.done();
    expect(queue.takenCount('a')).toBe(1);
  });

  it('lets a taker wait for the next item, and tells every taker there are no more once closed and empty', async () => {
    const queue = new HostRotationQueue<string>();
    const first = queue.take();
    const second = queue.take();
    queue.push('a1', 'a');
    await expect(first.then((taken) => taken?.item)).resolves.toBe('a1');
    queue.close();
    await expect(second).resolves.toBeUndefined();
    await expect(queue.take()).resolves.toBeUndefined();
  });

  it('still hands out what was queued before it was closed', async () => {
    const queue = queueOf(['a1', 'b1']);
    queue.close();
    await expect(queue.take().then((taken) => taken?.item)).resolves.toBe('a1');
    await expect(queue.take().then((taken) => taken?.item)).resolves.toBe('b1');
    await expect(queue.take()).resolves.toBeUndefined();
  });

  it('makes a taker wait while only spares are left and the last workers take none, and wakes it when one is done', async () => {
    const queue = queueOf(['a1', 'a2'], { slotsPerHost: 1, workers: 2 });
    const first = (await queue.take())!;
    await expectTakerToWaitFor(queue, () => first.done(), 'a2');
  });

  it("wakes a waiting taker for a spare when another host's item is done", async () => {
    const queue = queueOf(['a1', 'a2', 'b1'], { slotsPerHost: 1, workers: 3 });
    const [, b1] = [(await queue.take())!, (await queue.take())!];
    await expectTakerToWaitFor(queue, () => b1.done(), 'a2');
  });

  it('hands the last items out after close once it may, then tells every waiting taker there are no more', async () => {
    const queue = queueOf(['a1', 'a2', 'a3'], { slotsPerHost: 1, workers: 2 });
    queue.close();
    const first = (await queue.take())!;
    const takers = [queue.take(), queue.take(), queue.take()];
    await settle();
    first.done();
    const second = (await takers[0])!;
    expect(second.item).toBe('a2');
    second.done();
    const third = (await takers[1])!;
    expect(third.item).toBe('a3');
    await expect(takers[2]).resolves.toBeUndefined();
  });

  it('loses no wake-up when several items are done while several takers wait', async () => {
    const queue = queueOf(['a1', 'b1', 'a2', 'b2'], { slotsPerHost: 1, workers: 2 });
    const [a1, b1] = [(await queue.take())!, (await queue.take())!];
    const takers = [queue.take(), queue.take()];
    await settle();
    a1.done();
    b1.done();
    const items = (await Promise.all(takers)).map((taken) => taken?.item);
    expect(items.sort()).toEqual(['a2', 'b2']);
  });
});
