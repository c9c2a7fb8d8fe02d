// `staplerd demo`: runs the demo and exits 0 when it behaved as designed.
import { runDemo } from '../../demo/run-demo.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';

export async function runDemoCommand(options: { dir?: string }): Promise<number> {
  const result = await runDemo({ dir: options.dir, out: process.stdout });
  if (!result.asExpected) process.stderr.write('staplerd demo: the pass did not end as expected (see the log above)\n');
  return result.asExpected ? EXIT_OK : EXIT_FAILED;
}
