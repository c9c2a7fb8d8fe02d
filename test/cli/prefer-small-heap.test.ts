import { describe, it, expect } from '@jest/globals';
import { shouldPreferSmallHeap } from '../../src/cli/prefer-small-heap.js';

describe('shouldPreferSmallHeap', () => {
  it.each([
    [[], undefined, true],
    [[], '', true],
    [[], '--max-old-space-size=4096', true],
    [['--enable-source-maps'], '--trace-warnings', true],
    [[], '--no-optimize-for-size', false],
    [[], '--max-old-space-size=512 --optimize-for-size', false],
    [['--no-optimize_for_size'], undefined, false],
    [['--optimize-for-size'], undefined, false],
  ])('execArgv %j and NODE_OPTIONS %j: %s', (execArgv, nodeOptions, expected) => {
    expect(shouldPreferSmallHeap(execArgv, nodeOptions)).toBe(expected);
  });
});
