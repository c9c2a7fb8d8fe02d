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
