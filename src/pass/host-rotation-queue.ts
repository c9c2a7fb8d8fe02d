// Targets waiting for a worker, handed out one responder host at a time in turn while discovery still adds to them.
/**
 * The streaming form of interleaveByHost (src/ocsp/host-limiter.ts): the host served least recently goes next, so
 * each host always has workers waiting for its slots and no host waits for another's (issue 13), also when targets
 * arrive while the pass already fetches. A host never served goes before every host already served.
 */
export class HostRotationQueue<T> {
  readonly #queues = new Map<string | undefined, T[]>();
  /** Hosts with items waiting, least recently served first. */
  readonly #rotation: (string | undefined)[] = [];
  readonly #lastServed = new Map<string | undefined, number>();
  #servedCount = 0;
  #closed = false;
  #wakeUp: (() => void)[] = [];

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
    for (const wake of this.#wakeUp.splice(0)) wake();
  }

  /** The next item without waiting, or undefined when none is queued now. */
  shift(): T | undefined {
    if (this.#rotation.length === 0) return undefined;
    const host = this.#rotation.shift();
    const queue = this.#queues.get(host)!;
    const item = queue.shift()!;
    this.#lastServed.set(host, this.#servedCount++);
    // Served most recently of all: to the back of the rotation.
    if (queue.length > 0) this.#rotation.push(host);
    else this.#queues.delete(host);
    return item;
  }

  /** The next item, waiting for one while the queue is open; undefined once it is closed and empty. */
  async take(): Promise<T | undefined> {
    for (;;) {
      if (this.#rotation.length > 0) return this.shift();
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => this.#wakeUp.push(resolve));
    }
  }

  /** Inserted by when it was last served (never: before every served host, after other never-served ones). */
  #enterRotation(host: string | undefined): void {
    const served = this.#lastServed.get(host) ?? -1;
    let position = this.#rotation.length;
    while (position > 0 && (this.#lastServed.get(this.#rotation[position - 1]) ?? -1) > served) position -= 1;
    this.#rotation.splice(position, 0, host);
  }
}
