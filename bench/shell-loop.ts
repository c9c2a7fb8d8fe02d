// The shell-loop baseline: one `openssl ocsp` process per certificate, one after another, as a cron script would do it.
// Run over a sample and scaled per certificate; CPU comes from bash's `times` (the loop's children included).
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest, ManifestEntry } from './generate-certificates.js';

export interface ShellLoopResult {
  readonly sample: number;
  readonly ok: number;
  readonly wallMs: number;
  /** User + system CPU of the loop's children (the openssl processes). */
  readonly cpuMs: number;
}

/**
 * Verification stays on (-CAfile, so openssl checks the response signature as every other contender does); -no_nonce
 * matches staplerd's default. -respout writes in place: a script wanting atomicity would add a `mv` per certificate.
 */
const LOOP_SCRIPT = `#!/bin/bash
set -u
ok=0
while IFS=$'\\t' read -r cert staple; do
  out=$(openssl ocsp -issuer "$CA_PEM" -CAfile "$CA_PEM" -cert "$cert" -url "$OCSP_URL" -respout "$staple" -no_nonce 2>&1)
  case "$out" in *"Response verify OK"*) case "$out" in *": good"*) ok=$((ok + 1)) ;; esac ;; esac
done < "$LIST"
echo "ok=$ok"
times
`;

/** Every k-th certificate, so the sample spans all sub-directories. */
export function pickSample(entries: readonly ManifestEntry[], size: number): ManifestEntry[] {
  const count = Math.min(size, entries.length);
  const step = entries.length / count;
  return Array.from({ length: count }, (_, index) => entries[Math.floor(index * step)]!);
}

export async function runShellLoop(manifest: Manifest, sampleSize: number, workDir: string): Promise<ShellLoopResult> {
  const sample = pickSample(manifest.entries, sampleSize);
  const scriptFile = join(workDir, 'shell-loop.sh');
  const listFile = join(workDir, 'shell-loop.tsv');
  await writeFile(scriptFile, LOOP_SCRIPT, { mode: 0o755 });
  await writeFile(listFile, sample.map((entry) => `${entry.certFile}\t${entry.stapleFile}\n`).join(''));
  const started = performance.now();
  const stdout = await runBash(scriptFile, { CA_PEM: manifest.caPemFile, OCSP_URL: manifest.ocspUrl, LIST: listFile });
  const wallMs = performance.now() - started;
  return { sample: sample.length, ok: Number(/^ok=(\d+)$/m.exec(stdout)?.[1] ?? 0), wallMs, cpuMs: parseChildTimesMs(stdout) };
}

function runBash(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`shell loop exited with ${code}`))));
  });
}

/** bash `times` prints two lines, the shell's then its children's user and system time, e.g. "0m1.234s 0m0.567s". */
function parseChildTimesMs(stdout: string): number {
  const lines = stdout.trim().split('\n').filter((line) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(line.trim()));
  const children = lines[lines.length - 1];
  if (!children) return NaN;
  return children
    .trim()
    .split(' ')
    .map((part) => {
      const [, minutes, seconds] = /^(\d+)m([\d.]+)s$/.exec(part)!;
      return (Number(minutes) * 60 + Number(seconds)) * 1000;
    })
    .reduce((sum, value) => sum + value, 0);
}
