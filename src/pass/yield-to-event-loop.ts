// Lets timers, signals and sockets run during a long sweep. With fresh staples and remembered signatures a pass over
// 10,000 certificates needs no I/O wait at all, so without this it would hold the event loop for its whole length.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** At most this long between turns of the event loop. */
const SLICE_MS = 10;
let sliceStart = performance.now();

/** Resolves at once, or on the next turn of the event loop when the current slice has run for SLICE_MS. */
export function yieldToEventLoop(): Promise<void> | undefined {
  const now = performance.now();
  if (now - sliceStart < SLICE_MS) return undefined;
  sliceStart = now;
  return nextTurn().then(() => {
    sliceStart = performance.now();
  });
}

/**
 * A yield with its own, usually shorter, slice. Discovery parses while the pass already fetches (issue 13): a
 * response that arrives waits for the current slice to end before its slot goes to the next request, so discovery
 * gives the loop back every millisecond or two instead of every SLICE_MS.
 */
export function createSlicedYield(sliceMs: number): () => Promise<void> | undefined {
  let start = performance.now();
  return () => {
    const now = performance.now();
    if (now - start < sliceMs) return undefined;
    return nextTurn().then(() => {
      start = performance.now();
    });
  };
}
