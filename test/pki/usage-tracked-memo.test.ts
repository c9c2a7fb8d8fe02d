import { describe, expect, it } from '@jest/globals';
import { UsageTrackedMemo, type StoredEntries } from '../../src/pki/usage-tracked-memo.js';

/** Stored entries that count their reads; 'bad' reads as unusable. */
function storedEntries(values: Record<string, string>): StoredEntries<string> & { reads: string[] } {
  const keys = Object.keys(values);
  const reads: string[] = [];
  return {
    keys,
    reads,
    read: (index) => {
      reads.push(keys[index]!);
      const value = values[keys[index]!]!;
      return value === 'bad' ? undefined : value;
    },
  };
}

describe('UsageTrackedMemo', () => {
  it('returns what was set and counts hits and misses', () => {
    const memo = new UsageTrackedMemo<number>(10);
    expect(memo.get('a')).toBeUndefined();
    memo.set('a', 1);
    expect(memo.get('a')).toBe(1);
    expect(memo.statistics).toEqual({ hits: 1, misses: 1 });
  });

  it('saves restored entries only once they are used, and forgets the others', () => {
    const memo = new UsageTrackedMemo<string>(10);
    memo.restore([['a', 'A'], ['b', 'B']]);
    expect(memo.get('b')).toBe('B');
    memo.set('c', 'C');
    expect(memo.takeUsed().sort()).toEqual([['b', 'B'], ['c', 'C']]);
    expect(memo.get('a')).toBeUndefined();
    // A new generation: nothing used yet.
    expect(memo.takeUsed()).toEqual([]);
    expect(memo.size).toBe(0);
  });

  it('does not let restored entries replace what this process learnt', () => {
    const memo = new UsageTrackedMemo<string>(10);
    memo.set('a', 'fresh');
    memo.restore([['a', 'from disk']]);
    expect(memo.get('a')).toBe('fresh');
  });

  it('forgets a deleted entry', () => {
    const memo = new UsageTrackedMemo<string>(10);
    memo.set('a', 'A');
    memo.delete('a');
    expect(memo.get('a')).toBeUndefined();
  });

  it('is cleared instead of growing past its bound, and restores no more than the bound', () => {
    const memo = new UsageTrackedMemo<number>(2);
    memo.set('a', 1);
    memo.set('b', 2);
    memo.set('c', 3);
    expect(memo.size).toBe(1);
    expect(memo.get('c')).toBe(3);
    const restored = new UsageTrackedMemo<number>(2);
    restored.restore([['x', 1], ['y', 2], ['z', 3]]);
    expect(restored.size).toBe(2);
  });

  it('reads a stored entry when it is looked up, every time, and never before', () => {
    const memo = new UsageTrackedMemo<string>(10);
    const stored = storedEntries({ a: 'A', b: 'B' });
    memo.restoreStored(stored);
    expect(memo.size).toBe(2);
    expect(stored.reads).toEqual([]);
    expect(memo.get('a')).toBe('A');
    expect(memo.get('a')).toBe('A');
    expect(stored.reads).toEqual(['a', 'a']);
  });

  it('treats a stored entry that reads as unusable as a miss, and forgets it', () => {
    const memo = new UsageTrackedMemo<string>(10);
    memo.restoreStored(storedEntries({ a: 'bad' }));
    expect(memo.get('a')).toBeUndefined();
    expect(memo.statistics).toEqual({ hits: 0, misses: 1 });
    expect(memo.knows('a')).toBe(false);
  });

  it('counts the used entries and says whether they changed without reading them; reads them only when asked', () => {
    const memo = new UsageTrackedMemo<string>(10);
    const stored = storedEntries({ a: 'A', b: 'B' });
    memo.restoreStored(stored);
    memo.get('a');
    memo.get('b');
    memo.takeUsed(); // the pass that restored them
    memo.get('a');
    stored.reads.length = 0;
    const used = memo.takeUsedIfChanged();
    expect(used).toMatchObject({ count: 1, changed: true });
    expect(stored.reads).toEqual([]);
    expect(used.entries()).toEqual([['a', 'A']]);
    expect(stored.reads).toEqual(['a']);
    memo.get('a');
    expect(memo.takeUsedIfChanged()).toMatchObject({ count: 1, changed: false });
  });

  it('does not let stored entries replace what this process learnt', () => {
    const memo = new UsageTrackedMemo<string>(10);
    memo.set('a', 'fresh');
    memo.restoreStored(storedEntries({ a: 'from disk' }));
    expect(memo.get('a')).toBe('fresh');
  });
});
