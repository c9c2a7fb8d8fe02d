import { describe, it, expect } from '@jest/globals';
import { shouldPreferSmallHeap } from '../../src/cli/prefer-small-heap.js';

describe('shouldPreferSmallHeap', () => {
  it.each([
    [[], true],
    [['--enable-source-maps', '--max-old-space-size=4096'], true],
    [['--no-optimize-for-size'], false],
    [['--no-optimize_for_size'], false],
    [['--optimize-for-size'], false],
  ])('node started with %j: %s', (execArgv, expected) => {
    expect(shouldPreferSmallHeap(execArgv)).toBe(expected);
  });
});
