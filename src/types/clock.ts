// Time and randomness are passed in, never read from globals, so policy is testable at fixed instants.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()) };
}

/** Returns a number in [0, 1), like Math.random. */
export type RandomSource = () => number;

export const systemRandom: RandomSource = Math.random;
