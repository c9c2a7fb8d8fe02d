// Experiment only: a 10-certificate daemon's RSS after 10 s with various preloads, beside a bare node.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildResponderSetup, createBenchAuthority, writeLeafCertificates } from './generate-certificates.js';
import { measureSettledRss } from './measure-process.js';
import { BenchResponder } from './responder-client.js';

const STAPLERD = process.env.STAPLERD ?? fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const base = '/tmp/exp-small';
await rm(base, { recursive: true, force: true });
await mkdir(base, { recursive: true });
const now = new Date();
const authority = await createBenchAuthority(now);
const responder = await BenchResponder.start();
const pre = responder.preSign(buildResponderSetup(authority, 10, 0, now));
const manifest = await writeLeafCertificates(authority, join(base, 'certs'), 10, { ocspUrl: responder.url, caIssuersUrl: `${responder.url}ca.der` }, now);
await pre;
const variants = (process.env.VARIANTS ?? 'none').split(',');
for (let run = 0; run < Number(process.env.RUNS ?? 2); run += 1) {
  for (const variant of variants) {
    for (const e of manifest.entries) await rm(e.stapleFile, { force: true });
    await rm(join(base, 'state'), { recursive: true, force: true });
    const flags = variant === 'none' ? [] : ['--import', variant];
    const [daemon, bare] = await Promise.all([
      measureSettledRss(STAPLERD, ['run', '--certs', manifest.certsDir, '--state-dir', join(base, 'state'), '--log-format', 'json'], { afterMs: 10_000, nodeFlags: flags }),
      measureSettledRss(undefined, [], { afterMs: 10_000 }),
    ]);
    console.log(`${variant}: daemon ${(daemon / 1024).toFixed(1)} MiB, bare ${(bare / 1024).toFixed(1)} MiB, ratio ${(daemon / bare).toFixed(2)}`);
  }
}
await responder.stop();
