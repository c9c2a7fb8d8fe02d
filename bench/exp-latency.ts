// Experiment only (not committed): one latency-bound host, staplerd once and the floor, with the responder's idle gaps.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildResponderSetup, createBenchAuthority, writeLeafCertificates } from './generate-certificates.js';
import { runMeasuredNode } from './measure-process.js';
import { BenchResponder } from './responder-client.js';

const STAPLERD = process.env.STAPLERD ?? fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor-sweep.js', import.meta.url));
const count = Number(process.env.N ?? 1000);
const delay = Number(process.env.D ?? 50);
const runs = Number(process.env.RUNS ?? 2);
const extra = (process.env.FLAGS ?? '').split(' ').filter(Boolean);
const base = '/tmp/exp-latency';
await rm(base, { recursive: true, force: true });
await mkdir(base, { recursive: true });
const now = new Date();
const authority = await createBenchAuthority(now);
const responder = await BenchResponder.start();
const pre = responder.preSign(buildResponderSetup(authority, count, delay, now));
const manifest = await writeLeafCertificates(authority, join(base, 'certs'), count, { ocspUrl: responder.url, caIssuersUrl: `${responder.url}ca.der` }, now);
await pre;
const manifestFile = join(base, 'manifest.json');
await writeFile(manifestFile, JSON.stringify(manifest));
const clean = async () => { for (const e of manifest.entries) await rm(e.stapleFile, { force: true }); await rm(join(base, 'state'), { recursive: true, force: true }); };
const fmt = (s: { count: number; meanMs: number; medianMs: number; p90Ms: number; totalMs: number }) => `n=${s.count} mean=${s.meanMs.toFixed(2)} med=${s.medianMs.toFixed(2)} p90=${s.p90Ms.toFixed(2)} total=${(s.totalMs / 1000).toFixed(2)}s`;
for (let run = 0; run < runs; run += 1) {
  for (const who of (process.env.WHO ?? 'staplerd,floor').split(',')) {
    const staplerdPath = who === 'main' ? (process.env.MAIN ?? '/work/main/dist-bench/src/cli/main.js') : STAPLERD;
    await clean();
    await responder.reset();
    const r = who === 'floor'
      ? await runMeasuredNode(FLOOR, [manifestFile, '32', '4'], { workDir: base, label: `floor-${run}` })
      : await runMeasuredNode(staplerdPath, ['once', '--certs', manifest.certsDir, '--state-dir', join(base, 'state'), '--per-host-concurrency', '4', '--log-format', 'json', ...extra], { workDir: base, label: `s-${run}`, nodeFlags: (process.env.NODEFLAGS ?? '').split(' ').filter(Boolean) });
    const st = await responder.stats();
    console.log(`${who} run ${run}: wall ${(r.wallMs / 1000).toFixed(2)} s cpu ${((r.userCpuMs + r.systemCpuMs) / 1000).toFixed(2)} s rss ${(r.maxRssKb / 1024).toFixed(0)} MiB req ${st.ocspRequests} exit ${r.exitCode}`);
    console.log(`   first request ${st.firstOcspRequestMs.toFixed(0)} ms; idle gaps ${fmt(st.idleGapMs)}  | held ${fmt(st.heldMs)} | resp elapsed ${(st.elapsedMs / 1000).toFixed(2)}`);
  }
}
await responder.stop();
