// Runs an async function over items (a list, or a source still growing) with at most `limit` in flight.
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length && !signal?.aborted) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  }
  const workers = Array.from({ length: Math.min(Math.max(1, limit), items.length) }, () => worker());
  await Promise.all(workers);
  return results;
}

/**
 * `limit` workers taking items from a source that may still grow (the streamed discovery), until it says there are
 * no more (undefined) or `signal` aborts; results in the order the items were taken.
 */
export async function drainWithConcurrency<T, R>(
  /** The next item, or a promise of it when none is ready (a value at hand saves the worker a turn per item). */
  take: () => T | undefined | Promise<T | undefined>,
  limit: number,
  task: (item: T) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const results: R[] = [];
  async function worker(): Promise<void> {
    while (!signal?.aborted) {
      const next = take();
      const item = next instanceof Promise ? await next : next;
      if (item === undefined || signal?.aborted) return;
      results.push(await task(item));
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, limit) }, () => worker()));
  return results;
}
