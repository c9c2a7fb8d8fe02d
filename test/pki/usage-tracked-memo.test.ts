import { describe, expect, it } from '@jest/globals';
import { UsageTrackedMemo } from '../../src/pki/usage-tracked-memo.js';

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
});
