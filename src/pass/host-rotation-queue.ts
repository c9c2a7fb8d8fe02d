// Targets waiting for a worker, handed out one responder host at a time in turn, hosts with a free slot first.
/** One item handed out; `done()` tells the queue the worker has finished with it (idempotent). */
export interface TakenItem<T> {
  readonly item: T;
  done(): void;
}

export interface HostRotationQueueOptions {
  /** The limiter's per-host slots (--per-host-concurrency): a host with this many items taken and not done is full. */
  readonly slotsPerHost?: number;
  /** Items a full host may hold beyond its slots, waiting at the limiter for one (default: slotsPerHost). */
  readonly sparesPerHost?: number;
}

/**
 * The streaming form of interleaveByHost (src/ocsp/host-limiter.ts): the host served least recently goes next, so
 * each host always has workers waiting for its slots and no host waits for another's (issue 13), also when targets
 * arrive while the pass already fetches. A host never served goes before every host already served.
 *
 * Session 7: rotation alone handed hosts out evenly, but a slow host finishes its items slowest, so more and more
 * workers sat holding its items at the limiter while fast hosts' slots stood idle (40-70 ms of dead time per request
 * in the bench's multi-host scenario). The queue now counts, per host, the items taken and not yet done: a host
 * with a free slot (fewer than slotsPerHost) goes first, least recently served among them. When every host with
 * items waiting is full, a worker still takes a spare from the least loaded one (fewest taken, then least recently
 * served), up to sparesPerHost: it waits at the limiter with its request built, so the slot it waits for restarts at
 * once when the answer before it arrives (the latency-bound scenario's dead time) instead of after that answer is
 * validated and written and the next target is read. Past the spares a worker waits for a host to finish an item
 * (or for a new host's item): more spares would only pile workers on the slow host that a host discovered later
 * needs, since the limiter lets no more through anyway.
 *
 * The counts only approximate the limiter's state: a target may fall back to a second responder URL on another host,
 * and CRL and AIA downloads take slots too. That only makes a choice less apt, never stuck: an item is never held
 * back by its host's count longer than the items taken before it take to be done (the limiter and the fetch
 * timeouts bound those), and items without a host (no OCSP URL: never limited) never wait.
 */
export class HostRotationQueue<T> {
  readonly #queues = new Map<string | undefined, T[]>();
  /** Hosts with items waiting, least recently served first. */
  readonly #rotation: (string | undefined)[] = [];
  readonly #lastServed = new Map<string | undefined, number>();
  /** Items taken and not yet done, per host (hosts with none are absent). */
  readonly #taken = new Map<string, number>();
  readonly #slotsPerHost: number;
  readonly #sparesPerHost: number;
  #servedCount = 0;
  #closed = false;
  #wakeUp: (() => void)[] = [];

  constructor(options: HostRotationQueueOptions = {}) {
    this.#slotsPerHost = options.slotsPerHost ?? Infinity;
    this.#sparesPerHost = options.sparesPerHost ?? this.#slotsPerHost;
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

  /** The next item without waiting, or undefined when none can be taken now (none queued, or every host at its cap). */
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
    if (host === undefined) return { item, done: () => {} };
    this.#taken.set(host, this.takenCount(host) + 1);
    let isDone = false;
    return {
      item,
      done: () => {
        if (isDone) return;
        isDone = true;
        const remaining = this.takenCount(host) - 1;
        if (remaining === 0) this.#taken.delete(host);
        else this.#taken.set(host, remaining);
        // A host at its cap may now give one more item to a waiting taker.
        if (this.#queues.has(host)) this.#wakeUp.shift()?.();
      },
    };
  }

  /** The next item, waiting for one while the queue is open; undefined once it is closed and empty. */
  async take(): Promise<TakenItem<T> | undefined> {
    for (;;) {
      const taken = this.shift();
      if (taken) return taken;
      // Closed with items left: they wait for their hosts' items to be done, each of which wakes a taker.
      if (this.#closed && this.#rotation.length === 0) return undefined;
      await new Promise<void>((resolve) => this.#wakeUp.push(resolve));
      // Each push or done wakes one taker for the one item it may free; one that did not wait may have taken it first.
    }
  }

  /**
   * Where in the rotation the next item comes from, or -1: the first host with a free slot; else, among the hosts
   * below their cap, the one with the fewest items taken (the first of them: least recently served).
   */
  #choosePosition(): number {
    let best = -1;
    let bestTaken = Infinity;
    for (let position = 0; position < this.#rotation.length; position += 1) {
      const host = this.#rotation[position];
      if (host === undefined) return position;
      const taken = this.takenCount(host);
      if (taken < this.#slotsPerHost) return position;
      if (taken < this.#slotsPerHost + this.#sparesPerHost && taken < bestTaken) {
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
