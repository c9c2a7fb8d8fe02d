// `staplerd-ocsp-response CERT_FILE`: H2O's ocsp-update-cmd contract on top of one staplerd pass over that file.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveConfig, type RawOptions, type StaplerdConfig } from '../../config/index.js';
import { StaplerdError, toStaplerdError, type ErrorCode } from '../../errors/index.js';
import { EX_OK, EX_TEMPFAIL, exitStatusFor } from '../../servers/h2o/index.js';
import { stapleOutputPath } from '../../output/staple-paths.js';
import { parseCertificateBundle } from '../../pki/certificate-bundle.js';
import { validateOcspResponse } from '../../pki/ocsp-response.js';
import type { ValidatedResponse } from '../../pki/types.js';
import { createValidationMemos } from '../../pki/validation-memos.js';
import { loadCertificateFile } from '../../discovery/index.js';
import { createLiveDependencies, createPublishState, drainHooks, runPass, type PassReport, type TargetOutcome } from '../../pass/index.js';
import { loadHistory, loadValidationCache, resolveStateDir, saveHistory, saveValidationCache } from '../../state/index.js';

// The H2O contract's exit statuses live with the server (servers/h2o/); re-exported for the executable's main.
export { EX_OK, EX_PERMANENT, EX_TEMPFAIL, EX_USAGE_OR_CONFIG, exitStatusFor } from '../../servers/h2o/index.js';

export interface OcspResponseInput {
  readonly certFile: string;
  /** `--issuer FILE`, as H2O's own fetch-ocsp-response takes it (H2O itself never passes it). */
  readonly issuerFile?: string;
  readonly flags: RawOptions;
  readonly configFile?: string;
}

/** Where the DER goes: stdout in the executable, a buffer in tests. */
export type WriteDer = (der: Uint8Array) => Promise<void>;

export async function runOcspResponseCommand(input: OcspResponseInput, writeDer: WriteDer = writeStdout): Promise<number> {
  const certFile = path.resolve(input.certFile);
  await assertRegularFile(certFile);
  // `certs` from the flags would replace the file's list, which is needed below to find the daemon's staple path.
  const loaded = await resolveConfig({ flags: input.flags, configFile: input.configFile, requireCerts: false });
  const issuerDir = input.issuerFile ? await makeIssuerDir(input.issuerFile) : undefined;
  try {
    const config: StaplerdConfig = {
      ...loaded,
      certs: [certFile],
      out: singleFileOutDir(loaded, certFile),
      issuerDir: issuerDir ?? loaded.issuerDir,
      force: false,
    };
    const deps = createLiveDependencies(config);
    try {
      const report = await runOnePass(config, deps);
      const outcome = report.outcomes.find((o) => o.certFiles.includes(certFile)) ?? report.outcomes[0];
      if (!outcome) throw new StaplerdError('CERT_PARSE_FAILED', 'no certificate found in this file', { file: certFile });
      const staple = await readServableStaple(outcome, certFile, config, deps.clock.now());
      if (staple) {
        await writeDer(staple.der);
        deps.logger.log(staple.certStatus === 'good' ? 'info' : 'error', 'h2o.printed', `printed the ${staple.certStatus} staple for H2O`, {
          file: certFile,
          thisUpdate: staple.thisUpdate,
          nextUpdate: staple.nextUpdate,
          status: staple.certStatus,
        });
        return EX_OK;
      }
      const code: ErrorCode = outcome.code ?? 'INTERNAL';
      const exit = exitStatusFor(code);
      deps.logger.log('warn', 'h2o.no_staple', `no valid staple to print (${code})${exit === EX_TEMPFAIL ? '; H2O will retry' : '; H2O stops stapling this certificate'}`, {
        file: certFile,
        code,
        exitStatus: exit,
      });
      return exit;
    } finally {
      await deps.close();
    }
  } finally {
    if (issuerDir) await rm(issuerDir, { recursive: true, force: true });
  }
}

/** The `once` pass over the one file, with the shared backoff history, so a daemon and H2O keep one schedule. */
async function runOnePass(config: StaplerdConfig, deps: ReturnType<typeof createLiveDependencies>): Promise<PassReport> {
  const stateDir = resolveStateDir(config.stateDir);
  const onCorrupt = (error: StaplerdError): void => deps.logger.log('warn', 'state.corrupt', error.message, { file: error.file, code: error.code });
  const history = await loadHistory(stateDir, onCorrupt);
  const memos = createValidationMemos();
  await loadValidationCache(stateDir, memos, onCorrupt);
  const publishState = createPublishState();
  const report = await runPass({ config, deps, publishState, history, memos });
  try {
    await saveHistory(stateDir, history, new Set(report.outcomes.flatMap((o) => (o.key ? [o.key] : []))), deps.clock.now());
    await saveValidationCache(stateDir, memos);
  } catch (thrown) {
    const error = toStaplerdError(thrown, 'WRITE_FAILED');
    deps.logger.log('warn', 'state.save_failed', `state not saved: ${error.message}`, { file: error.file, code: error.code });
  }
  await drainHooks(publishState);
  return report;
}

/**
 * The staple file's bytes, validated again now against the leaf and the issuer the pass used: H2O staples whatever
 * it is given for hours (ocsp-update-interval), so nothing unchecked or about to expire may reach it. A revoked
 * answer is printed (truthful; onRevoked: staple writes it too); "unknown" never is (process-target never writes it).
 */
async function readServableStaple(outcome: TargetOutcome, certFile: string, config: StaplerdConfig, now: Date): Promise<ValidatedResponse | undefined> {
  const stapleFile = outcome.files?.find((f) => f.certFile === certFile)?.stapleFile;
  if (!stapleFile || !outcome.issuerPem) return undefined;
  let der: Uint8Array;
  try {
    der = await readFile(stapleFile);
  } catch {
    return undefined;
  }
  const loaded = await loadCertificateFile(certFile);
  if (loaded.kind !== 'leaf') return undefined;
  const [issuer] = parseCertificateBundle(new TextEncoder().encode(outcome.issuerPem), 'issuer');
  if (!issuer) return undefined;
  try {
    const response = await validateOcspResponse(der, {
      issuer,
      cert: loaded.leaf,
      at: now,
      clockSkewMs: config.clockSkewMs,
      minRemainingMs: config.minRemainingMs,
      file: stapleFile,
    });
    if (response.certStatus === 'good' || (response.certStatus === 'revoked' && config.onRevoked === 'staple')) return response;
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * With `out`, the daemon mirrors the tree below the certs root that holds the file. A pass over the file alone
 * takes its directory as the root, so `out` becomes the directory the daemon's staple is in: both use one path.
 */
export function singleFileOutDir(config: StaplerdConfig, certFile: string): string | undefined {
  if (config.out === undefined) return undefined;
  const root = config.certs.find((candidate) => {
    const below = path.relative(candidate, certFile);
    return below === '' || (!below.startsWith('..') && !path.isAbsolute(below));
  });
  if (!root) return config.out;
  return path.dirname(stapleOutputPath(certFile, { certsRoot: root, outDir: config.out }));
}

/** H2O passes its `certificate-file`; a directory there would make the pass scan a tree, which is never meant. */
async function assertRegularFile(certFile: string): Promise<void> {
  let info;
  try {
    info = await stat(certFile);
  } catch (error) {
    throw new StaplerdError('CERT_UNREADABLE', `cannot read certificate file: ${(error as Error).message}`, { file: certFile });
  }
  if (!info.isFile()) throw new StaplerdError('CERT_UNREADABLE', 'not a regular file', { file: certFile });
}

/** `--issuer FILE` as a private issuer directory holding only that file (issuer-dir is searched after the chain). */
async function makeIssuerDir(issuerFile: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(issuerFile);
  } catch (error) {
    throw new StaplerdError('CONFIG_INVALID', `cannot read --issuer file: ${(error as Error).message}`, { file: issuerFile });
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'staplerd-issuer-'));
  await writeFile(path.join(dir, 'issuer.pem'), bytes);
  return dir;
}

function writeStdout(der: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(der, (error) => (error ? reject(error) : resolve())));
}
