// Shared set-up for pass tests: the test PKI, a temp certs dir, a hand-moved clock, a fake responder and a memory logger.
import { beforeAll, expect } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { DEFAULT_CONFIG, type StaplerdConfig } from '../../src/config/index.js';
import type { IssuedIdentity } from '../../src/demo/demo-pki.js';
import { createMemoryLogger } from '../../src/log/index.js';
import { readFileIfExists } from '../../src/output/atomic-write.js';
import { validateOcspResponse } from '../../src/pki/ocsp-response.js';
import type { ValidatedResponse } from '../../src/pki/types.js';
import { runPass, type HistoryStore, type PassReport, type TargetOutcome } from '../../src/pass/index.js';
import type { StapleFileFailure } from '../../src/types/index.js';
import { FakeOcspHttp, ManualClock } from '../helpers/fake-http.js';
import { createTestPki, makeTempDir, removeTempDirsAfterAll, type LeafLayout, type TestPki } from '../helpers/test-pki.js';
import type { ValidationMemos } from '../../src/pki/validation-memos.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** The instant the test PKI is created for and every clock starts at. */
export const T0 = new Date('2031-03-01T12:00:00Z');
/** Never contacted: the fake HttpClient answers every URL. */
export const OCSP_URL = 'http://127.0.0.1:9/ocsp';

/** What every pass test file sets up first: one test PKI made at T0 before its tests, temp dirs removed after them. */
export interface PassSuite {
  /** The test PKI, from the suite's beforeAll on (inside tests and hooks, not at module level). */
  readonly pki: TestPki;
  /** Temp dirs to remove after the file's tests. */
  readonly dirs: string[];
  /** DEFAULT_CONFIG over a new, empty temp certs dir, changed by `overrides`. */
  configFor(overrides?: Partial<StaplerdConfig>): Promise<StaplerdConfig>;
  /** A pass fixture and one leaf (with an OCSP URL unless `leaf` says otherwise) written into its first certs dir. */
  leafScenario(options?: LeafScenarioOptions): Promise<LeafScenario>;
}

export interface LeafScenarioOptions {
  /** The fixture's config changes (createPassFixture's `overrides`). */
  readonly config?: Partial<StaplerdConfig>;
  readonly leaf?: Parameters<TestPki['issueLeaf']>[0];
  /** Default 'fullchain': leaf + intermediate, so the issuer is in the file. */
  readonly layout?: LeafLayout;
}

export interface LeafScenario {
  readonly fx: PassFixture;
  readonly leaf: IssuedIdentity;
  readonly certFile: string;
  readonly stapleFile: string;
}

/** Call once at the top of a test file: registers the beforeAll that makes the PKI and the afterAll that cleans up. */
export function usePassSuite(): PassSuite {
  let pki: TestPki | undefined;
  const dirs = removeTempDirsAfterAll();
  beforeAll(async () => {
    pki = await createTestPki({ now: T0 });
  });
  const suite: PassSuite = {
    get pki(): TestPki {
      if (!pki) throw new Error('the pass suite\'s test PKI is made in beforeAll: use it inside tests and hooks');
      return pki;
    },
    dirs,
    configFor: async (overrides = {}) => {
      const dir = await makeTempDir();
      dirs.push(dir);
      return { ...DEFAULT_CONFIG, certs: [dir], ...overrides };
    },
    leafScenario: async ({ config = {}, leaf: leafOptions = {}, layout = 'fullchain' } = {}) => {
      const fx = await createPassFixture(suite.pki, dirs, config);
      const leaf = await suite.pki.issueLeaf({ ocspUrls: [OCSP_URL], ...leafOptions });
      const { certFile } = await suite.pki.writeLeaf(fx.config.certs[0]!, leaf, layout);
      return { fx, leaf, certFile, stapleFile: `${certFile}.ocsp` };
    },
  };
  return suite;
}

export interface PassFixture {
  readonly dir: string;
  readonly clock: ManualClock;
  readonly http: FakeOcspHttp;
  readonly logger: ReturnType<typeof createMemoryLogger>;
  readonly history: HistoryStore;
  readonly config: StaplerdConfig;
  /** Every staple file the passes could not write or remove, as the daemon's metrics are told. */
  readonly fileFailures: StapleFileFailure[];
  /** One pass with the fixture's config, changed by `overrides` for this pass only. */
  pass(overrides?: Partial<StaplerdConfig>): Promise<PassReport>;
  /** One pass that must yield exactly one outcome. */
  passOne(overrides?: Partial<StaplerdConfig>): Promise<TargetOutcome>;
}

/** `memos`: what `once` and `run` hand every pass (none by default, as `check` and the library). */
export async function createPassFixture(pki: TestPki, dirs: string[], overrides: Partial<StaplerdConfig> = {}, memos?: ValidationMemos): Promise<PassFixture> {
  const dir = await makeTempDir();
  dirs.push(dir);
  const clock = new ManualClock(T0);
  const http = new FakeOcspHttp(pki.authority, clock);
  const logger = createMemoryLogger();
  const history: HistoryStore = new Map();
  const fileFailures: StapleFileFailure[] = [];
  const config: StaplerdConfig = { ...DEFAULT_CONFIG, certs: [dir], ...overrides };
  // random 0.5 means "no jitter": refresh exactly halfway, backoff in the middle of its range.
  const pass = (extra: Partial<StaplerdConfig> = {}): Promise<PassReport> =>
    runPass({
      config: { ...config, ...extra }, deps: { clock, random: () => 0.5, logger, http, observeStapleFileFailure: (failure) => fileFailures.push(failure) }, history, memos,
    });
  const passOne = async (extra: Partial<StaplerdConfig> = {}): Promise<TargetOutcome> => {
    const report = await pass(extra);
    expect(report.outcomes).toHaveLength(1);
    return report.outcomes[0]!;
  };
  return { dir, clock, http, logger, history, config, fileFailures, pass, passOne };
}

/** The staple on disk, validated for `leaf` at `at` without a minimum lifetime; undefined when absent. */
export async function readStaple(pki: TestPki, file: string, leaf: IssuedIdentity, at: Date): Promise<ValidatedResponse | undefined> {
  const der = await readFileIfExists(file);
  if (!der) return undefined;
  return validateOcspResponse(der, { issuer: pki.authority.intermediate.certificate, cert: leaf.certificate, at, minRemainingMs: 0 });
}

export function readBytes(file: string): Promise<Buffer> {
  return readFile(file);
}
