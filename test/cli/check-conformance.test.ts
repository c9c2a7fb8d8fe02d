// The acceptance test through the real binary: every conformance corpus case judged by `staplerd check --json`, plus its usage errors.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Certificate } from '../../src/pki/certificate.js';
import { readCertificateFile } from '../../src/pki/pem.js';
import { CONFORMANCE_DIR, describeWithCorpus, expectedCode, loadConformanceCases, type ConformanceCase } from '../helpers/conformance-corpus.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/test-pki.js';

/** Each spawn is a Node start-up (~0.5 s of CPU); 4 at once keeps the 70 cases well under 20 s on 2 cores. */
const PARALLEL_SPAWNS = 4;

/** Who signed a valid case's response, per the corpus README: D* by a delegated responder certificate, ND* and the Go vectors by the CA. */
function expectedSigner(testCase: ConformanceCase): 'issuer' | 'delegated' {
  return /^(ISIC_)?D\d/.test(testCase.id) ? 'delegated' : 'issuer';
}

/** The serial `check` must report for a valid case: lowercase hex without leading zero bytes, as CertificateSummary has it. */
function expectedSerial(testCase: ConformanceCase): string {
  if (testCase.serialHex !== undefined) return testCase.serialHex.toLowerCase().replace(/^(00)+(?=..)/, '');
  const [der] = readCertificateFile(testCase.cert!, testCase.certPath!).certificates;
  return Certificate.fromDer(der!, testCase.certPath).summary.serialHex;
}

/** The command line of a case: the response was copied to responseFile, issuer and cert are read in the corpus. */
function checkArgs(testCase: ConformanceCase, responseFile: string): string[] {
  const subject = testCase.certPath ? ['--cert', path.join(CONFORMANCE_DIR, testCase.certPath)] : ['--serial', testCase.serialHex!];
  return ['check', responseFile, '--issuer', path.join(CONFORMANCE_DIR, testCase.issuerPath), ...subject, '--at', testCase.at.toISOString(), '--json'];
}

/** Runs tasks with at most `limit` in flight; each result promise settles on its own, so tests can await theirs. */
function runLimited<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T>[] {
  let next = 0;
  const settlers: { resolve: (value: T) => void; reject: (error: unknown) => void }[] = [];
  const results = tasks.map((_, index) => new Promise<T>((resolve, reject) => (settlers[index] = { resolve, reject })));
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      await tasks[index]!().then(settlers[index]!.resolve, settlers[index]!.reject);
    }
  };
  for (let i = 0; i < Math.min(limit, tasks.length); i++) void worker();
  return results;
}

interface JsonVerdict {
  file?: string;
  valid?: boolean;
  at?: string;
  code?: string;
  certStatus?: string;
  serial?: string;
  signedBy?: string;
}

function parseVerdict(result: CliResult): JsonVerdict | string {
  try {
    return JSON.parse(result.stdout) as JsonVerdict;
  } catch {
    return `not JSON: ${JSON.stringify(result.stdout)} (stderr: ${result.stderr})`;
  }
}

function describeCorpus(): void {
  const cases = loadConformanceCases();
  let workDir: string;
  const runs = new Map<string, Promise<CliResult>>();
  const responseFiles = new Map<string, string>();

  beforeAll(async () => {
    workDir = await makeTempDir('staplerd-check-conformance-');
    // Cases share response files under different ids (D1, D1@expired): give each its own copy, so `file` in the
    // verdict names exactly the file of this case.
    await Promise.all(
      cases.map(async (testCase, index) => {
        const file = path.join(workDir, `${index}-${testCase.id.replace(/[^A-Za-z0-9_.-]/g, '_')}.der`);
        await writeFile(file, testCase.response);
        responseFiles.set(testCase.id, file);
      }),
    );
    const started = runLimited(
      cases.map((testCase) => () => runCli(checkArgs(testCase, responseFiles.get(testCase.id)!), { cwd: workDir, env: { STATE_DIRECTORY: workDir } })),
      PARALLEL_SPAWNS,
    );
    cases.forEach((testCase, index) => {
      // Observed here so a spawn error surfaces in its own test, never as an unhandled rejection.
      started[index]!.catch(() => undefined);
      runs.set(testCase.id, started[index]!);
    });
  });

  afterAll(async () => {
    // Let every child finish before its files go away.
    await Promise.allSettled(runs.values());
    if (workDir) await removeTempDir(workDir);
  });

  it('holds the 70 cases of the acceptance criteria', () => {
    expect(cases).toHaveLength(70);
  });

  for (const testCase of cases) {
    const code = testCase.expect === 'invalid' ? expectedCode(testCase) : undefined;
    const verdictName = testCase.expect === 'valid' ? 'exit 0, valid' : `exit 1, invalid ${code ?? '(any code)'}`;
    it(`${testCase.id}: ${verdictName} (${testCase.why})`, async () => {
      const result = await runs.get(testCase.id)!;
      const verdict = parseVerdict(result);
      const common = { file: responseFiles.get(testCase.id), at: testCase.at.toISOString() };
      if (testCase.expect === 'valid') {
        expect({ exit: result.code, verdict }).toMatchObject({
          exit: 0,
          verdict: { ...common, valid: true, certStatus: expect.stringMatching(/^(good|revoked|unknown)$/), serial: expectedSerial(testCase), signedBy: expectedSigner(testCase) },
        });
      } else {
        expect({ exit: result.code, verdict }).toMatchObject({
          exit: 1,
          verdict: { ...common, valid: false, code: code ?? expect.stringMatching(/^[A-Z_]+$/) },
        });
        // A usage problem (code USAGE, exit 2) would be a broken test, not an invalid response.
        expect((verdict as JsonVerdict).code).not.toBe('USAGE');
      }
    });
  }
}

describe('staplerd check: usage errors exit 2 and name the option', () => {
  // check keeps no state; a dir of our own only stops runCli from leaving a fresh state dir per run in /tmp.
  let stateDir: string;
  const runCheck = (args: string[]): Promise<CliResult> => runCli(['check', ...args], { env: { STATE_DIRECTORY: stateDir } });
  beforeAll(async () => {
    stateDir = await makeTempDir('staplerd-check-usage-');
  });
  afterAll(async () => {
    if (stateDir) await removeTempDir(stateDir);
  });

  const response = path.join(CONFORMANCE_DIR, 'openssl-ocsp-tests/der/D1.der');
  const issuer = path.join(CONFORMANCE_DIR, 'openssl-ocsp-tests/certs/D1_Issuer_ICA.pem');
  const cert = path.join(CONFORMANCE_DIR, 'openssl-ocsp-tests/certs/D1_Cert_EE.pem');

  // None of these reads the files before failing, so the corpus need not be present.
  it('exits 2 naming --issuer when it is missing', async () => {
    const result = await runCheck([response, '--cert', cert, '--at', '2012-10-26T19:30:00Z', '--json']);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/--issuer/);
  });

  it('exits 2 naming --cert and --serial when both are given', async () => {
    const result = await runCheck([response, '--issuer', issuer, '--cert', cert, '--serial', '1121bcbf', '--at', '2012-10-26T19:30:00Z', '--json']);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/--cert/);
    expect(result.stderr).toMatch(/--serial/);
  });

  it('exits 2 naming --at when it is not an ISO-8601 time', async () => {
    const result = await runCheck([response, '--issuer', issuer, '--cert', cert, '--at', 'next tuesday', '--json']);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/--at/);
  });
});

describeWithCorpus('staplerd check on the OCSP conformance corpus', describeCorpus);
