// Shared set-up for the end-to-end tests: a throwaway PKI, an in-process responder on 127.0.0.1, temp dirs, and
// helpers that judge what the built staplerd binary left on disk (openssl as an independent verifier).
import { expect } from '@jest/globals';
import { execFile } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import type { IssuedIdentity, LeafOptions } from '../../src/demo/demo-pki.js';
import { startOcspResponder, type RunningResponder } from '../../src/demo/ocsp-responder.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { createTestPki, makeTempDir, removeTempDir, type TestPki } from '../helpers/test-pki.js';

export interface E2eFixture {
  readonly pki: TestPki;
  readonly responder: RunningResponder;
  /** Temp dir of this test file; everything else lives below it. */
  readonly root: string;
  /** root.pem and intermediate.pem, outside every certs dir (openssl -CAfile / -issuer, `check --issuer`). */
  readonly rootFile: string;
  readonly intermediateFile: string;
  /** Environment for the child: its state dir inside root, never the user's. */
  readonly env: NodeJS.ProcessEnv;
  /** A leaf whose AIA names the responder. */
  issueLeaf(options?: Partial<LeafOptions>): Promise<IssuedIdentity>;
  /** The leaf alone as PEM, outside the certs dirs (openssl -cert, `check --cert`). */
  writeReferencePem(leaf: IssuedIdentity): Promise<string>;
  /** A new directory below root. */
  makeDir(name: string): Promise<string>;
  /** `staplerd once <args>` with the fixture's environment (plus `env`, e.g. another STATE_DIRECTORY). */
  once(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** Moves the responder's clock, so the next answer is strictly newer (thisUpdate has whole seconds). */
  advanceResponderClock(ms: number): void;
  close(): Promise<void>;
}

export interface E2eFixtureOptions {
  /** The responder's nextUpdate - thisUpdate (its default, 24 h, when unset). */
  readonly responderValidityMs?: number;
}

export async function createE2eFixture(options: E2eFixtureOptions = {}): Promise<E2eFixture> {
  const root = await makeTempDir('staplerd-e2e-');
  const pki = await createTestPki();
  let clockOffsetMs = 0;
  const responder = await startOcspResponder({
    authority: pki.authority,
    now: () => new Date(Date.now() + clockOffsetMs),
    ...(options.responderValidityMs === undefined ? {} : { validityMs: options.responderValidityMs }),
  });
  const refDir = path.join(root, 'reference');
  await mkdirp(refDir);
  const { rootFile, intermediateFile } = await pki.writeCaFiles(refDir);
  const env = { STATE_DIRECTORY: path.join(root, 'state') };
  let refCount = 0;
  return {
    pki,
    responder,
    root,
    rootFile,
    intermediateFile,
    env,
    issueLeaf: (options = {}) => pki.issueLeaf({ ocspUrls: [responder.url], ...options }),
    async writeReferencePem(leaf) {
      const file = path.join(refDir, `leaf-${++refCount}.pem`);
      await writeFile(file, leaf.certificate.toPem());
      return file;
    },
    async makeDir(name) {
      const dir = path.join(root, name);
      await mkdirp(dir);
      return dir;
    },
    once: (args, extraEnv = {}) => runCli(['once', ...args], { env: { ...env, ...extraEnv } }),
    advanceResponderClock(ms) {
      clockOffsetMs += ms;
    },
    async close() {
      await responder.close();
      await removeTempDir(root);
    },
  };
}

async function mkdirp(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}

export interface OpensslVerdict {
  /** openssl ocsp exited 0 and printed "Response verify OK". */
  readonly verified: boolean;
  /** "good", "revoked" or "unknown" as openssl reads the SingleResponse for -cert; undefined when none matched. */
  readonly status?: string;
  readonly output: string;
}

/**
 * Verifies a DER staple with openssl, independently of staplerd's own validator: signature chain to the root
 * (delegated responder -> intermediate -> root), CertID of `leafPem` under the intermediate, validity times.
 */
export function verifyWithOpenssl(stapleFile: string, leafPem: string, fixture: Pick<E2eFixture, 'rootFile' | 'intermediateFile'>): Promise<OpensslVerdict> {
  const args = ['ocsp', '-respin', stapleFile, '-issuer', fixture.intermediateFile, '-verify_other', fixture.intermediateFile, '-CAfile', fixture.rootFile, '-cert', leafPem];
  return new Promise((resolve) => {
    execFile('openssl', args, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      const match = new RegExp(`^${escapeRegExp(leafPem)}: (\\w+)`, 'm').exec(stdout);
      resolve({ verified: !error && /Response verify OK/.test(output), status: match?.[1], output });
    });
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface FileIdentity {
  readonly ino: number;
  readonly mtimeMs: number;
  readonly bytes: string;
}

/** Inode, mtime and contents: equal identities mean the file was not touched (not even rewritten with the same bytes). */
export async function readIdentity(file: string): Promise<FileIdentity> {
  const info = await stat(file);
  return { ino: info.ino, mtimeMs: info.mtimeMs, bytes: (await readFile(file)).toString('base64') };
}

export async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** Every file below dir (symlinks listed, not followed). */
export async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(full)));
    else found.push(full);
  }
  return found.sort();
}

/** Leftover temp files of an atomic write (`.<file>.staplerd-<pid>-<hex>.tmp`) or anything else ending in .tmp. */
export async function listTempFiles(dir: string): Promise<string[]> {
  return (await listFiles(dir)).filter((file) => file.endsWith('.tmp'));
}

/** The URL of a port nothing listens on: bind an ephemeral port on 127.0.0.1, then close it. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/`;
}

/** Asserts the exit status; on a mismatch the failure shows the command's stdout and stderr. */
export function expectExitCode(result: CliResult, code: number): void {
  expect({ code: result.code, output: result.code === code ? '' : `stdout:\n${result.stdout}\nstderr:\n${result.stderr}` }).toEqual({ code, output: '' });
}

/** Log lines (stderr) that mention `text`. */
export function linesWith(log: string, text: string): string[] {
  return log.split('\n').filter((line) => line.includes(text));
}

/** Polls until `predicate` holds; rejects with `what` after timeoutMs. Not a timing assertion: only a generous bound. */
export async function waitFor(predicate: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A port nothing listens on right now, for a listener the child process binds (metrics). */
export async function freePort(): Promise<number> {
  return Number(new URL(await closedPortUrl()).port);
}

export interface CheckVerdict {
  readonly valid: boolean;
  readonly certStatus?: string;
  readonly thisUpdate?: string;
  readonly nextUpdate?: string;
  readonly code?: string;
}

/** `staplerd check --json` on a staple for the leaf in `leafPem`: the times as staplerd's own validator reads them. */
export async function checkStaple(stapleFile: string, leafPem: string, fixture: Pick<E2eFixture, 'intermediateFile'>): Promise<CheckVerdict> {
  const result = await runCli(['check', stapleFile, '--cert', leafPem, '--issuer', fixture.intermediateFile, '--min-remaining', '0', '--json']);
  return JSON.parse(result.stdout) as CheckVerdict;
}

/** The JSON log lines of a --log-format json run (other lines, e.g. a stray warning, are skipped). */
export function jsonEvents(log: string): Record<string, unknown>[] {
  return log.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
