// The acceptance test: every case of the shared OCSP conformance corpus gets its expected verdict through validateOcspResponse.
import { it, expect } from '@jest/globals';
import { StaplerdError } from '../../src/errors/index.js';
import { Certificate } from '../../src/pki/certificate.js';
import { readCertificateFile } from '../../src/pki/pem.js';
import { validateOcspResponse } from '../../src/pki/ocsp-response.js';
import { createValidationMemos, type ValidationMemos } from '../../src/pki/validation-memos.js';
import type { UsageTrackedMemo } from '../../src/pki/usage-tracked-memo.js';
import { describeWithCorpus, expectedCode, loadConformanceCases, type ConformanceCase } from '../helpers/conformance-corpus.js';

function loadCertificate(bytes: Uint8Array, file: string, memos: ValidationMemos | undefined): Certificate {
  const [first] = readCertificateFile(bytes, file).certificates;
  if (!first) throw new Error(`${file} holds no certificate`);
  return Certificate.fromDer(first, file, memos);
}

/** "valid", "invalid:CODE" for a StaplerdError, or the text of anything else thrown. No memos: as `check` judges. */
async function judge(testCase: ConformanceCase, memos?: ValidationMemos): Promise<string> {
  const issuer = loadCertificate(testCase.issuer, testCase.issuerPath, memos);
  const cert = testCase.cert ? loadCertificate(testCase.cert, testCase.certPath!, memos) : undefined;
  try {
    await validateOcspResponse(testCase.response, { issuer, at: testCase.at, memos, ...(cert ? { cert } : { serialHex: testCase.serialHex! }) });
    return 'valid';
  } catch (error) {
    if (error instanceof StaplerdError) return `invalid:${error.code}`;
    return `unexpected ${String(error)}`;
  }
}

function describeCorpus(): void {
  const cases = loadConformanceCases();

  it('holds the 70 cases of the acceptance criteria', () => {
    expect(cases).toHaveLength(70);
  });

  for (const testCase of cases) {
    const code = testCase.expect === 'invalid' ? expectedCode(testCase) : undefined;
    const verdictName = testCase.expect === 'valid' ? 'valid' : `invalid, ${code ?? 'any StaplerdError'}`;
    it(`${testCase.id}: ${verdictName} (${testCase.why})`, async () => {
      const verdict = await judge(testCase);
      if (testCase.expect === 'valid') expect(verdict).toBe('valid');
      else if (code) expect(verdict).toBe(`invalid:${code}`);
      else expect(verdict).toMatch(/^invalid:[A-Z_]+$/);
    });
  }
}

/** What a restart does to a memo: its used entries through JSON (as the state directory keeps them) into an empty one. */
function reloadThroughJson<V>(memo: UsageTrackedMemo<V>): void {
  const saved = JSON.stringify(memo.takeUsed());
  memo.clear();
  memo.restore(JSON.parse(saved) as [string, V][]);
}

function describeRestoredFacts(): void {
  it('gives every case the same verdict when its certificates and response are decoded facts restored from JSON', async () => {
    const cases = loadConformanceCases();
    const memos = createValidationMemos();
    const { certificates: certificateFactsMemo, responses: ocspResponseFactsMemo } = memos;
    const fresh = await Promise.all(cases.map((testCase) => judge(testCase, memos)));
    reloadThroughJson(certificateFactsMemo);
    reloadThroughJson(ocspResponseFactsMemo);
    const hitsBefore = ocspResponseFactsMemo.statistics.hits;
    const restored = await Promise.all(cases.map((testCase) => judge(testCase, memos)));
    expect(restored).toEqual(fresh);
    // Every distinct response that decoded the first time (several cases share one) was answered from the facts.
    expect(ocspResponseFactsMemo.size).toBeGreaterThanOrEqual(30);
    expect(ocspResponseFactsMemo.statistics.hits - hitsBefore).toBeGreaterThanOrEqual(ocspResponseFactsMemo.size);
  });
}

describeWithCorpus('OCSP conformance corpus', describeCorpus);
describeWithCorpus('OCSP conformance corpus, from restored decoded facts', describeRestoredFacts);
