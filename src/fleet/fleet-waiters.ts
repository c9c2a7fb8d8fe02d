// Hosts waiting for a lease holder's notification: woken by a message naming their key, or by the poll interval.

export class FleetWaiters {
  readonly #waiting = new Map<string, Set<() => void>>();

  /** Resolves when `key` is announced or after pollMs, whichever comes first (polling is the fallback). */
  waitFor(key: string, pollMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const set = this.#waiting.get(key) ?? new Set<() => void>();
      this.#waiting.set(key, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.#waiting.get(key) === set) this.#waiting.delete(key);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      set.add(done);
    });
  }

  /** A message from the channel is untrusted: it only wakes waiters early, who then read and validate. */
  wake(key: string): void {
    for (const done of [...(this.#waiting.get(key) ?? [])]) done();
  }

  wakeAll(): void {
    for (const key of [...this.#waiting.keys()]) this.wake(key);
  }
}
