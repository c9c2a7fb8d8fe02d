// A bounded map of facts about exact bytes (keyed by a digest of them) that remembers which entries the current pass
// used, so what is saved to the state directory follows the certificates and staples on disk instead of growing.

/**
 * Entries restored from a state file and read from it only when looked up (restoreStored). Why: building every
 * restored value up front was most of a warm restart's state loading, and the values then sat in the heap, where the
 * garbage collector copied them on every pass (20,000 entries, about 17 MB, for 10,000 certificates;
 * docs/performance.md, "Session 8").
 */
export interface StoredEntries<V> {
  readonly keys: readonly string[];
  /** The value stored for keys[index]; undefined when it turns out unusable (the lookup is then a miss). */
  read(index: number): V | undefined;
}

interface Entry<V> {
  /** Undefined for a stored entry: read from `stored` on every lookup and never kept. */
  value: V | undefined;
  stored: StoredEntries<V> | undefined;
  index: number;
  /** The generation the entry was last used in; -1 for entries restored and not used yet. */
  generation: number;
}

/** What takeUsedIfChanged hands over: the count at once, the values (read from stored entries) only when asked. */
export interface UsedEntries<V> {
  readonly count: number;
  /** Whether this differs from what the previous take returned (or what was restored): unchanged need not be saved. */
  readonly changed: boolean;
  entries(): [string, V][];
}

export class UsageTrackedMemo<V> {
  readonly #entries = new Map<string, Entry<V>>();
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
    const value = entry === undefined ? undefined : entry.value ?? entry.stored?.read(entry.index);
    if (value === undefined) {
      // A stored entry that turned out unusable goes, so the caller's real work replaces it.
      if (entry !== undefined) this.delete(key);
      this.#misses += 1;
      return undefined;
    }
    this.#hits += 1;
    entry!.generation = this.#generation;
    return value;
  }

  /** Whether `key` is known, without counting a lookup or marking it used. */
  knows(key: string): boolean {
    return this.#entries.has(key);
  }

  set(key: string, value: V): void {
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) this.#entries.clear();
    this.#entries.set(key, { value, stored: undefined, index: 0, generation: this.#generation });
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
      if (!this.#entries.has(key)) this.#entries.set(key, { value, stored: undefined, index: 0, generation: -1 });
    }
  }

  /** Like restore, for entries read from `stored` only when looked up (StoredEntries). */
  restoreStored(stored: StoredEntries<V>): void {
    stored.keys.forEach((key, index) => {
      if (this.#entries.size < this.#maxEntries && !this.#entries.has(key)) this.#entries.set(key, { value: undefined, stored, index, generation: -1 });
    });
  }

  /**
   * The entries used (looked up or added) since the previous call, to be saved; every other entry is forgotten, so
   * the memo only holds what the current certificates and staples need. Starts a new generation.
   */
  takeUsed(): [string, V][] {
    return this.takeUsedIfChanged().entries();
  }

  /** Like takeUsed, with the count and whether anything changed known before any stored value is read. */
  takeUsedIfChanged(): UsedEntries<V> {
    const used: [string, Entry<V>][] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.generation === this.#generation) {
        used.push([key, entry]);
      } else {
        this.#entries.delete(key);
        this.#changed = true;
      }
    }
    const changed = this.#changed;
    this.#changed = false;
    this.#generation += 1;
    return {
      count: used.length,
      changed,
      // A stored entry that reads as unusable now is left out, as its next lookup will find it.
      entries: () => used.flatMap(([key, entry]) => {
        const value = entry.value ?? entry.stored?.read(entry.index);
        return value === undefined ? [] : [[key, value]];
      }),
    };
  }

  /** Empty, as a new process starts (tests simulate restarts with it). */
  clear(): void {
    this.#entries.clear();
    this.#changed = false;
  }
}
