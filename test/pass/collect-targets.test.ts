// Turning certificate directories into targets: grouping by leaf, the chain to resolve issuers, and when not to look.
import { describe, it, expect } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StaplerdConfig } from '../../src/config/index.js';
import type { FileProblem, StapleTarget } from '../../src/pass/collect-targets.js';
import { discoverTargets } from '../../src/pass/discover-targets.js';
import type { ValidationMemos } from '../../src/pki/validation-memos.js';
import { OCSP_URL, T0, usePassSuite } from './pass-fixture.js';

const suite = usePassSuite();

/** Every target of one discovery at once, in discovery order (runPass takes them as they come). */
async function collectTargets(
  config: StaplerdConfig,
  options: { now: Date; memos?: ValidationMemos; fetchCaIssuer?: (url: string) => Promise<Uint8Array>; onDirectoryError?: (path: string, error: Error) => void },
): Promise<{ targets: StapleTarget[]; problems: readonly FileProblem[]; notices: readonly FileProblem[]; scannedFiles: number }> {
  const found: { target: StapleTarget; order: number }[] = [];
  const discovered = await discoverTargets(config, { ...options, onTarget: (target, order) => found.push({ target, order }) });
  found.sort((a, b) => a.order - b.order);
  return { targets: found.map(({ target }) => target), problems: discovered.problems, notices: discovered.notices, scannedFiles: discovered.scannedFiles };
}

/** A caIssuers fetcher that records its calls and never succeeds. */
function recordingFetcher() {
  const calls: string[] = [];
  return {
    calls,
    fetch: async (url: string): Promise<Uint8Array> => {
      calls.push(url);
      throw new Error('offline');
    },
  };
}

describe('collectTargets', () => {
  it('groups files holding the same leaf and takes the issuer from the file that carries the chain', async () => {
    const config = await suite.configFor();
    const dir = config.certs[0]!;
    const leaf = await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] });
    // Sorted first, but without the chain: the issuer must still come from the other file's chain.
    await writeFile(path.join(dir, 'a-cert.pem'), leaf.certificate.toPem());
    await writeFile(path.join(dir, 'b-fullchain.pem'), leaf.certificate.toPem() + suite.pki.authority.intermediate.certificate.toPem());
    const collected = await collectTargets(config, { now: T0 });
    expect(collected.scannedFiles).toBe(2);
    expect(collected.targets).toHaveLength(1);
    const target = collected.targets[0]!;
    expect(target.key).toBe(leaf.certificate.summary.fingerprintSha256);
    expect(target.files.map((f) => path.basename(f.certFile))).toEqual(['a-cert.pem', 'b-fullchain.pem']);
    expect(target.files.map((f) => path.basename(f.stapleFile))).toEqual(['a-cert.pem.ocsp', 'b-fullchain.pem.ocsp']);
    expect(target.issuer?.source).toBe('file');
  });

  it('skips files without a leaf quietly and reports unparsable ones', async () => {
    const config = await suite.configFor();
    const dir = config.certs[0]!;
    await suite.pki.writeCaFiles(dir);
    await writeFile(path.join(dir, 'garbage.pem'), 'hello');
    const collected = await collectTargets(config, { now: T0 });
    expect(collected.targets).toEqual([]);
    expect(collected.problems.map((p) => [path.basename(p.certFile), p.error.code])).toEqual([['garbage.pem', 'CERT_PARSE_FAILED']]);
  });

  it('does not look for the issuer of a certificate without an OCSP URL', async () => {
    const config = await suite.configFor();
    const fetcher = recordingFetcher();
    await suite.pki.writeLeaf(config.certs[0]!, await suite.pki.issueLeaf({ ocspUrls: [], caIssuersUrls: ['http://127.0.0.1:9/ca.der'] }), 'leaf');
    const collected = await collectTargets(config, { now: T0, fetchCaIssuer: fetcher.fetch });
    expect(collected.targets).toHaveLength(1);
    expect(collected.targets[0]!.issuer).toBeUndefined();
    expect(collected.targets[0]!.issuerError).toBeUndefined();
    expect(fetcher.calls).toEqual([]);
  });

  it('records ISSUER_NOT_FOUND on the target after trying the caIssuers URL', async () => {
    const config = await suite.configFor();
    const fetcher = recordingFetcher();
    const { certFile } = await suite.pki.writeLeaf(
      config.certs[0]!,
      await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], caIssuersUrls: ['http://127.0.0.1:9/ca.der'] }),
      'leaf',
    );
    const collected = await collectTargets(config, { now: T0, fetchCaIssuer: fetcher.fetch });
    expect(fetcher.calls).toEqual(['http://127.0.0.1:9/ca.der']);
    expect(collected.targets[0]!.issuerError?.code).toBe('ISSUER_NOT_FOUND');
    expect(collected.targets[0]!.issuerError?.file).toBe(certFile);
  });

  it('mirrors staple paths under the output directory', async () => {
    const config = await suite.configFor();
    const out = `${config.certs[0]!}-out`;
    suite.dirs.push(out);
    await suite.pki.writeLeaf(config.certs[0]!, await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL] }), 'certbot', 'example.test');
    const collected = await collectTargets({ ...config, out }, { now: T0 });
    expect(collected.targets[0]!.files.map((f) => f.stapleFile).sort()).toEqual([
      path.join(out, 'example.test', 'cert.pem.ocsp'),
      path.join(out, 'example.test', 'fullchain.pem.ocsp'),
    ]);
  });
});
