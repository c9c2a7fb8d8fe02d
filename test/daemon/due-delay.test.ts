// When `run` wakes by itself, at fixed instants: the earliest staple refresh or retry, or the earliest CRL refresh.
import { describe, expect, it } from '@jest/globals';
import { computeDueDelayMs } from '../../src/daemon/due-delay.js';
import type { TargetOutcome } from '../../src/pass/index.js';

const NOW_MS = Date.parse('2031-03-01T12:00:00Z');
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const at = (offsetMs: number): Date => new Date(NOW_MS + offsetMs);
const outcomesDueAt = (...offsetsMs: number[]): TargetOutcome[] => offsetsMs.map((offsetMs) => ({ nextActionAt: at(offsetMs) }) as TargetOutcome);

describe('computeDueDelayMs', () => {
  it.each([
    { name: 'the earliest staple when no CRL was looked up', outcomes: outcomesDueAt(3 * HOUR_MS, 2 * HOUR_MS), crlWakeAt: undefined, delayMs: 2 * HOUR_MS },
    { name: 'a CRL due before the next staple', outcomes: outcomesDueAt(12 * HOUR_MS), crlWakeAt: at(4 * HOUR_MS), delayMs: 4 * HOUR_MS },
    { name: 'the staple when it comes before the CRL', outcomes: outcomesDueAt(30 * MINUTE_MS), crlWakeAt: at(4 * HOUR_MS), delayMs: 30 * MINUTE_MS },
    { name: 'a CRL alone (certificates without OCSP: no staple instants at all)', outcomes: [{} as TargetOutcome], crlWakeAt: at(4 * HOUR_MS), delayMs: 4 * HOUR_MS },
    { name: 'a CRL already due: after the one-second floor, never a spin', outcomes: [], crlWakeAt: at(-MINUTE_MS), delayMs: 1000 },
    { name: 'a CRL beyond what setTimeout can wait: the timer cap', outcomes: [], crlWakeAt: at(40 * 24 * HOUR_MS), delayMs: 2_147_483_647 },
    { name: 'nothing due', outcomes: [{} as TargetOutcome], crlWakeAt: undefined, delayMs: undefined },
  ])('wakes for $name', ({ outcomes, crlWakeAt, delayMs }) => {
    expect(computeDueDelayMs({ outcomes, crlWakeAt }, NOW_MS)).toBe(delayMs);
  });
});
