// Loaded with `node --import` into every measured Node process: at exit it writes the process's own CPU time and peak
// RSS (getrusage via process.resourceUsage) to $BENCH_USAGE_FILE, which a parent cannot read after the child is gone.
import { writeFileSync } from 'node:fs';

export interface ProcessUsage {
  readonly userCpuUs: number;
  readonly systemCpuUs: number;
  /** ru_maxrss: the resident set size high-water mark, KiB on Linux. */
  readonly maxRssKb: number;
}

const target = process.env.BENCH_USAGE_FILE;
if (target) {
  // The measured program must not see the variable (it would pass it on to anything it spawns).
  delete process.env.BENCH_USAGE_FILE;
  process.on('exit', () => {
    const usage = process.resourceUsage();
    const report: ProcessUsage = { userCpuUs: usage.userCPUTime, systemCpuUs: usage.systemCPUTime, maxRssKb: usage.maxRSS };
    writeFileSync(target, JSON.stringify(report));
  });
}
