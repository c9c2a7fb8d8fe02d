// Bounds concurrent requests per URL host and overall, so a sweep over thousands of certificates that share one
// responder (typically one per CA) does not open thousands of connections to it.
import { StaplerdError } from '../errors/index.js';

export interface HostLimiter {
  /** Runs `task` once both the per-host and the global limit have room; waiters start in arrival order. */
  run<T>(url: string, task: () => Promise<T>): Promise<T>;
  /** Tasks running now for `host` (URL host, with port when not the default), or overall without an argument. */
  inFlight(host?: string): number;
}

export interface HostLimiterOptions {
  perHost: number;
  global: number;
}

interface Waiter {
  readonly host: string;
  readonly start: () => void;
}

export function createHostLimiter(options: HostLimiterOptions): HostLimiter {
  assertPositiveInteger('perHost', options.perHost);
  assertPositiveInteger('global', options.global);
  const runningByHost = new Map<string, number>();
  const waiters: Waiter[] = [];
  let runningTotal = 0;

  const hasRoom = (host: string): boolean =>
    runningTotal < options.global && (runningByHost.get(host) ?? 0) < options.perHost;

  const acquire = (host: string): void => {
    runningTotal += 1;
    runningByHost.set(host, (runningByHost.get(host) ?? 0) + 1);
  };

  const release = (host: string): void => {
    runningTotal -= 1;
    const remaining = (runningByHost.get(host) ?? 1) - 1;
    if (remaining === 0) runningByHost.delete(host);
    else runningByHost.set(host, remaining);
    startWaiters();
  };

  // Scans the whole queue, not just its head: a waiter blocked on a busy host must not hold back one for an idle host.
  const startWaiters = (): void => {
    for (let index = 0; index < waiters.length && runningTotal < options.global; ) {
      const waiter = waiters[index]!;
      if (!hasRoom(waiter.host)) {
        index += 1;
        continue;
      }
      waiters.splice(index, 1);
      acquire(waiter.host);
      waiter.start();
    }
  };

  const run = <T>(url: string, task: () => Promise<T>): Promise<T> => {
    const host = hostOf(url);
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        runTask(task).then(
          (value) => { release(host); resolve(value); },
          (error: unknown) => { release(host); reject(error); },
        );
      };
      // After every release the queue is drained, so any waiter left is blocked by a limit that also blocks this
      // task unless its own host has room: starting it directly keeps arrival order where it matters.
      if (hasRoom(host)) {
        acquire(host);
        start();
      } else {
        waiters.push({ host, start });
      }
    });
  };

  const inFlight = (host?: string): number => (host === undefined ? runningTotal : runningByHost.get(host) ?? 0);

  return { run, inFlight };
}

/** The limiter key: URL host (hostname plus non-default port); an unparsable URL is its own key, and fails later. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Orders `items` round-robin over their hosts (first-seen host order, each host's items in their own order), so a
 * worker pool of C workers walking the result keeps about C/hosts workers on every host instead of all C on the
 * first directory's responder. Why (issue 13): with items grouped by host, every worker queued on one responder's P
 * slots while the others sat idle, so hosts waited for each other and a pass took the sum of their times instead of
 * the slowest one's. Items without a host (`undefined`) form one group of their own.
 */
export function interleaveByHost<T>(items: readonly T[], hostOfItem: (item: T) => string | undefined): T[] {
  const groups = new Map<string | undefined, T[]>();
  for (const item of items) {
    const host = hostOfItem(item);
    const group = groups.get(host);
    if (group) group.push(item);
    else groups.set(host, [item]);
  }
  const ordered: T[] = [];
  // Exhausted hosts leave the rotation, so one big host among many small ones costs O(items), not O(hosts * items).
  for (let queues = [...groups.values()], round = 0; queues.length > 0; round += 1) {
    for (const queue of queues) ordered.push(queue[round]!);
    queues = queues.filter((queue) => queue.length > round + 1);
  }
  return ordered;
}

/** A task that throws synchronously still releases its slot. */
function runTask<T>(task: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(task());
  } catch (error) {
    return Promise.reject(error);
  }
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new StaplerdError('CONFIG_INVALID', `host limiter ${name} must be a positive integer, got ${value}`);
  }
}
