// Experiment only: warm restart over N certificates with two staplerd builds, alternately.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildResponderSetup, createBenchAuthority, writeLeafCertificates } from './generate-certificates.js';
import { runMeasuredNode } from './measure-process.js';
import { BenchResponder } from './responder-client.js';

const builds = (process.env.BUILDS ?? '').split(',').filter(Boolean);
const count = Number(process.env.N ?? 10000);
const base = '/tmp/exp-warm';
await rm(base, { recursive: true, force: true });
await mkdir(base, { recursive: true });
const now = new Date();
const authority = await createBenchAuthority(now);
const responder = await BenchResponder.start();
const pre = responder.preSign(buildResponderSetup(authority, count, 0, now));
const manifest = await writeLeafCertificates(authority, join(base, 'certs'), count, { ocspUrl: responder.url, caIssuersUrl: `${responder.url}ca.der` }, now);
await pre;
const args = (state: string) => ['once', '--certs', manifest.certsDir, '--state-dir', state, '--log-format', 'json'];
// One cold pass per build, each with its own state dir (the memos are per build version).
for (const [i, build] of builds.entries()) {
  for (const e of manifest.entries) await rm(e.stapleFile, { force: true });
  const cold = await runMeasuredNode(build, args(join(base, `state-${i}`)), { workDir: base, label: `cold-${i}` });
  console.log(`cold ${i}: ${(cold.wallMs / 1000).toFixed(2)} s exit ${cold.exitCode}`);
}
for (let run = 0; run < Number(process.env.RUNS ?? 3); run += 1) {
  for (const [i, build] of builds.entries()) for (const variant of (process.env.VARIANTS ?? '').split('|')) {
    await responder.reset();
    const warm = await runMeasuredNode(build, args(join(base, `state-${i}`)), { workDir: base, label: `warm-${i}-${run}`, nodeFlags: variant.split(' ').filter(Boolean) });
    process.stdout.write(`[${variant}] `);
    const st = await responder.stats();
    console.log(`warm build ${i} run ${run}: wall ${(warm.wallMs / 1000).toFixed(2)} s cpu ${((warm.userCpuMs + warm.systemCpuMs) / 1000).toFixed(2)} s rss ${(warm.maxRssKb / 1024).toFixed(0)} MiB requests ${st.ocspRequests} exit ${warm.exitCode}`);
  }
}
await responder.stop();
