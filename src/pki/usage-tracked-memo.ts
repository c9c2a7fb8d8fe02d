// A bounded map of facts about exact bytes (keyed by a digest of them) that remembers which entries the current pass
// used, so what is saved to the state directory follows the certificates and staples on disk instead of growing.

export class UsageTrackedMemo<V> {
  /** Key -> value and the generation it was last used in; -1 for entries restored from disk and not used yet. */
  readonly #entries = new Map<string, { value: V; generation: number }>();
  readonly #maxEntries: number;
  /** Entries added or forgotten since the last takeUsed: whether what would be saved changed. */
  #changed = false;
  #generation = 0;
  #hits = 0;
  #misses = 0;

  /**
   * Past maxEntries the memo is cleared rather than grown (a pass needs a few entries per certificate). Only callers
   * that prune it (see takeUsed) create one; the others hand none down (validation-memos.ts).
   */
  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Lookups answered from the memo and lookups that were not, since the process started. */
  get statistics(): { readonly hits: number; readonly misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /** The value remembered for `key`, marking it used in the current generation. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#misses += 1;
      return undefined;
    }
    this.#hits += 1;
    entry.generation = this.#generation;
    return entry.value;
  }

  /** Whether `key` is known, without counting a lookup or marking it used. */
  knows(key: string): boolean {
    return this.#entries.has(key);
  }

  set(key: string, value: V): void {
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) this.#entries.clear();
    this.#entries.set(key, { value, generation: this.#generation });
    this.#changed = true;
  }

  /** Forgets an entry that turned out unusable, so the next lookup does the real work and replaces it. */
  delete(key: string): void {
    if (this.#entries.delete(key)) this.#changed = true;
  }

  /** Entries read back from the state directory: known, but only saved again once used. */
  restore(entries: Iterable<readonly [string, V]>): void {
    for (const [key, value] of entries) {
      if (this.#entries.size >= this.#maxEntries) break;
      if (!this.#entries.has(key)) this.#entries.set(key, { value, generation: -1 });
    }
  }

  /**
   * The entries used (looked up or added) since the previous call, to be saved; every other entry is forgotten, so
   * the memo only holds what the current certificates and staples need. Starts a new generation.
   */
  takeUsed(): [string, V][] {
    return this.takeUsedIfChanged().used;
  }

  /**
   * Like takeUsed, and whether the result differs from what the previous call returned (or what was restored):
   * an unchanged set need not be written again.
   */
  takeUsedIfChanged(): { used: [string, V][]; changed: boolean } {
    const used: [string, V][] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.generation === this.#generation) {
        used.push([key, entry.value]);
      } else {
        this.#entries.delete(key);
        this.#changed = true;
      }
    }
    const changed = this.#changed;
    this.#changed = false;
    this.#generation += 1;
    return { used, changed };
  }

  /** Empty, as a new process starts (tests simulate restarts with it). */
  clear(): void {
    this.#entries.clear();
    this.#changed = false;
  }
}
