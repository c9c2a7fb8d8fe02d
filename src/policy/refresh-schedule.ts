// When a valid staple should be refreshed: pure, with time and randomness passed in.
import type { RandomSource } from '../types/index.js';

export interface StapleWindow {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

export interface RefreshOptions {
  /** A staple must never be left with less validity than this (the validator also rejects responses this close to nextUpdate). */
  readonly minRemainingMs: number;
  readonly random: RandomSource;
  /** Spread, as a fraction of the window, on each side of the halfway point. Default 0.05. */
  readonly jitterFraction?: number;
}

const REFRESH_POINT = 0.5;
const DEFAULT_JITTER_FRACTION = 0.05;

/**
 * Refresh halfway through the validity window, as certmagic does and RFC 5019 section 6 suggests (fetching well
 * before nextUpdate leaves room for retries when the responder is down). Jitter of +-jitterFraction of the window
 * (random 0 -> -jitter, 0.5 -> none, towards 1 -> +jitter) keeps many certificates from one CA from refreshing in
 * lockstep. Clamped to at most nextUpdate - minRemainingMs and, winning over that, at least thisUpdate.
 */
export function computeRefreshAt(window: StapleWindow, options: RefreshOptions): Date {
  const thisUpdateMs = window.thisUpdate.getTime();
  const windowMs = Math.max(0, window.nextUpdate.getTime() - thisUpdateMs);
  const jitterFraction = options.jitterFraction ?? DEFAULT_JITTER_FRACTION;
  const jitterMs = (options.random() * 2 - 1) * jitterFraction * windowMs;
  const candidateMs = thisUpdateMs + REFRESH_POINT * windowMs + jitterMs;
  const latestMs = window.nextUpdate.getTime() - options.minRemainingMs;
  return new Date(Math.floor(Math.max(thisUpdateMs, Math.min(candidateMs, latestMs))));
}

/** True when a fetch is needed now: no refresh time known (no staple yet), or it has been reached. */
export function isRefreshDue(refreshAt: Date | undefined, now: Date): boolean {
  return refreshAt === undefined || now.getTime() >= refreshAt.getTime();
}
