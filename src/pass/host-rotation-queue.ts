// Targets waiting for a worker, handed out one responder host at a time in turn, hosts with a free slot first.
/** One item handed out; `done()` tells the queue the worker has finished with it (idempotent). */
export interface TakenItem<T> {
  readonly item: T;
  done(): void;
}

export interface HostRotationQueueOptions {
  /** The limiter's per-host slots (--per-host-concurrency): a host with this many items taken and not done is full. */
  readonly slotsPerHost?: number;
  /** How many workers take from the queue (--concurrency): full hosts get spares while slotsPerHost of them are left. */
  readonly workers?: number;
}

/**
 * The streaming form of interleaveByHost (src/ocsp/host-limiter.ts): the host served least recently goes next, so
 * each host always has workers waiting for its slots and no host waits for another's (issue 13), also when targets
 * arrive while the pass already fetches. A host never served goes before every host already served.
 *
 * Session 7: rotation alone handed hosts out evenly, but a slow host finishes its items slowest, so more and more
 * workers sat holding its items at the limiter while fast hosts' slots stood idle, and a fast host's items went
 * at the slow host's pace (the bench's multi-host scenario). The queue now counts, per host, the items taken and not
 * yet done: a host with a free slot (fewer than slotsPerHost taken) goes first, least recently served among them.
 * When every host with items waiting is full, a worker still takes a spare from the least loaded one (fewest taken,
 * then least recently served): it waits at the limiter with its request built, so the slot restarts as soon as the
 * answer before it is in, while that answer is still validated and written (the count includes those). Capping the
 * spares at slotsPerHost per host cost the one-host pass 1.5-3.5 ms of dead time per request (docs/performance.md), so
 * they are not capped per host; but the last slotsPerHost workers take no spare: while the tree is still parsed,
 * targets arrive one by one and idle workers take each at once, so the first host found would hold every worker
 * and a host found after it would wait for one of them to be done, however slow that host answers. Those workers
 * wait instead, for a host with a free slot (a new item) or for an item to be done.
 *
 * The counts only approximate the limiter's state: a target may fall back to a second responder URL on another host,
 * and CRL and AIA downloads take slots too. That makes a choice less apt, never stuck: an item waits only while
 * other items are taken, each of which is done in time (the limiter and the fetch timeouts bound them) and then
 * wakes a waiting worker, and items without a host (no OCSP URL: never limited) never wait.
 */
export class HostRotationQueue<T> {
  readonly #queues = new Map<string | undefined, T[]>();
  /** Hosts with items waiting, least recently served first. */
  readonly #rotation: (string | undefined)[] = [];
  readonly #lastServed = new Map<string | undefined, number>();
  /** Items taken and not yet done, per host (hosts with none are absent). */
  readonly #taken = new Map<string, number>();
  readonly #slotsPerHost: number;
  /** Spares are taken only while fewer items than this are taken in all. */
  readonly #spareLimit: number;
  #takenTotal = 0;
  #servedCount = 0;
  #closed = false;
  #wakeUp: (() => void)[] = [];

  constructor(options: HostRotationQueueOptions = {}) {
    this.#slotsPerHost = options.slotsPerHost ?? Infinity;
    this.#spareLimit = (options.workers ?? Infinity) - this.#slotsPerHost;
  }

  push(item: T, host: string | undefined): void {
    const queue = this.#queues.get(host);
    if (queue && queue.length > 0) {
      queue.push(item);
    } else {
      this.#queues.set(host, [item]);
      this.#enterRotation(host);
    }
    this.#wakeUp.shift()?.();
  }

  /** No more items will come: waiting takers get undefined once the queues are empty. */
  close(): void {
    this.#closed = true;
    this.#wakeAll();
  }

  /** Items taken from `host` and not yet done. */
  takenCount(host: string): number {
    return this.#taken.get(host) ?? 0;
  }

  /** The next item without waiting, or undefined when none can be taken now (none queued, or only spares and none left). */
  shift(): TakenItem<T> | undefined {
    const position = this.#choosePosition();
    if (position < 0) return undefined;
    const [host] = this.#rotation.splice(position, 1);
    const queue = this.#queues.get(host)!;
    const item = queue.shift()!;
    this.#lastServed.set(host, this.#servedCount++);
    // Served most recently of all: to the back of the rotation.
    if (queue.length > 0) this.#rotation.push(host);
    else this.#queues.delete(host);
    // Closed and now empty: takers still waiting for a host's room learn there is nothing more.
    if (this.#closed && this.#rotation.length === 0) this.#wakeAll();
    this.#takenTotal += 1;
    if (host !== undefined) this.#taken.set(host, this.takenCount(host) + 1);
    let isDone = false;
    const done = (): void => {
      if (isDone) return;
      isDone = true;
      this.#takenTotal -= 1;
      if (host !== undefined) {
        const remaining = this.takenCount(host) - 1;
        if (remaining === 0) this.#taken.delete(host);
        else this.#taken.set(host, remaining);
      }
      // One more item may be taken now (a slot, or a spare): one waiting taker tries.
      if (this.#rotation.length > 0) this.#wakeUp.shift()?.();
    };
    return { item, done };
  }

  /** The next item, waiting for one while the queue is open; undefined once it is closed and empty. */
  async take(): Promise<TakenItem<T> | undefined> {
    for (;;) {
      const taken = this.shift();
      if (taken) return taken;
      // Closed with items left (spares not allowed now): an item done wakes a taker, the last item taken wakes all.
      if (this.#closed && this.#rotation.length === 0) return undefined;
      await new Promise<void>((resolve) => this.#wakeUp.push(resolve));
      // Each push or done wakes one taker for the one item it may free; one that did not wait may have taken it first.
    }
  }

  /**
   * Where in the rotation the next item comes from, or -1: the first host with a free slot (or no host); else, while
   * spares may be taken, the host with the fewest items taken (the first of them: least recently served).
   */
  #choosePosition(): number {
    let best = -1;
    let bestTaken = Infinity;
    const mayTakeSpare = this.#takenTotal < this.#spareLimit;
    for (let position = 0; position < this.#rotation.length; position += 1) {
      const host = this.#rotation[position];
      if (host === undefined) return position;
      const taken = this.takenCount(host);
      if (taken < this.#slotsPerHost) return position;
      if (mayTakeSpare && taken < bestTaken) {
        best = position;
        bestTaken = taken;
      }
    }
    return best;
  }

  #wakeAll(): void {
    for (const wake of this.#wakeUp.splice(0)) wake();
  }

  /** Inserted by when it was last served (never: before every served host, after other never-served ones). */
  #enterRotation(host: string | undefined): void {
    const served = this.#lastServed.get(host) ?? -1;
    let position = this.#rotation.length;
    while (position > 0 && (this.#lastServed.get(this.#rotation[position - 1]) ?? -1) > served) position -= 1;
    this.#rotation.splice(position, 0, host);
  }
}
