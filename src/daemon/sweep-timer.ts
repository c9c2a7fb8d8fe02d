// The only module that imports node-cron: the periodic safety-net sweep of `run`.
import { schedule, validate } from 'node-cron';

export interface SweepTimer {
  stop(): Promise<void>;
}

export function isValidCronExpression(expression: string): boolean {
  return validate(expression);
}

/** Calls `onTick` on the cron schedule; overlapping ticks are the caller's concern (passes are serialised). */
export function startSweepTimer(expression: string, onTick: () => void): SweepTimer {
  const task = schedule(expression, () => onTick(), { name: 'staplerd-sweep', noOverlap: true });
  return {
    async stop() {
      await task.stop();
      await task.destroy();
    },
  };
}
