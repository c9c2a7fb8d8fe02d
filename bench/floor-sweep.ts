// The floor: what any staple fetcher must do at minimum, with no PKI work. For each certificate it reads the file,
// sends staplerd's exact GET (request bytes prepared by the generator) over a keep-alive agent capped at the per-host
// limit, and writes the body with staplerd's own atomic write. No parsing, no validation: nothing left to cut.
import { Agent, get } from 'node:http';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../src/output/atomic-write.js';
import type { ManifestEntry } from './generate-certificates.js';
import { printResult, readSweepArgs, runPool } from './sweep-common.js';

const TIMEOUT_MS = 10_000;

function fetchBody(agent: Agent, url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent, timeout: TIMEOUT_MS, headers: { accept: 'application/ocsp-response' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        if (response.statusCode === 200) resolve(Buffer.concat(chunks));
        else reject(new Error(`HTTP ${response.statusCode} from ${url}`));
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`timeout after ${TIMEOUT_MS} ms`)));
    request.on('error', reject);
  });
}

async function main(): Promise<void> {
  const { manifest, concurrency, perHostConcurrency } = await readSweepArgs(process.argv.slice(2));
  // maxSockets per host is Node's own per-host limit: requests beyond it queue in the agent, never reach the responder.
  const agent = new Agent({ keepAlive: true, maxSockets: perHostConcurrency });
  const result = await runPool(manifest.entries, concurrency, async (entry: ManifestEntry) => {
    await readFile(entry.certFile);
    const body = await fetchBody(agent, manifest.ocspUrl + entry.getPath);
    await writeFileAtomic(entry.stapleFile, body);
  });
  agent.destroy();
  printResult(result);
}

await main();
