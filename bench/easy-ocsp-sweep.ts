// The library a Node user would reach for: the same sweep written with easy-ocsp's getCertStatus, signature check on,
// the issuer passed in (as a user holding a fullchain file would), each response written with staplerd's atomic write.
import { readFile } from 'node:fs/promises';
import { getCertStatus } from 'easy-ocsp';
import { writeFileAtomic } from '../src/output/atomic-write.js';
import type { ManifestEntry } from './generate-certificates.js';
import { createLimiter, firstPemBlock, printResult, readSweepArgs, runPool } from './sweep-common.js';

const TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const { manifest, concurrency, perHostConcurrency } = await readSweepArgs(process.argv.slice(2));
  const issuerDer = await readFile(manifest.caDerFile);
  // getCertStatus fetches and validates in one call, so the per-host slot covers both (see bench/README.md).
  const limitHost = createLimiter(perHostConcurrency);
  const result = await runPool(manifest.entries, concurrency, async (entry: ManifestEntry) => {
    const leafPem = firstPemBlock(await readFile(entry.certFile, 'utf8'));
    const status = await limitHost(() =>
      getCertStatus(leafPem, {
        ca: issuerDer,
        validateSignature: true,
        // staplerd sends no nonce by default either (and pre-signed answers cannot echo one).
        enableNonce: false,
        rawResponse: true,
        timeout: TIMEOUT_MS,
      }),
    );
    if (status.status !== 'good' || !status.rawResponse) throw new Error(`${entry.certFile}: status ${status.status}`);
    await writeFileAtomic(entry.stapleFile, status.rawResponse);
  });
  printResult(result);
}

await main();
