// Builds the StaplerdConfig from defaults, an optional YAML file and command-line flags (flags win), validating each key.
import { dirname, resolve } from 'node:path';
// Types only here: the parser itself is imported when a file is read (readConfigFileContents), so a run without
// --config never loads it (issue 13: about 8 MiB of a small daemon's resident memory).
import type { Document, LineCounter, YAMLError } from 'yaml';
import { StaplerdError } from '../errors/index.js';
import { readRegularFileSync } from '../fs/read-regular-file.js';
import { parseHookCommand } from '../hooks/index.js';
// The parsers only, not the index: loading the config must not load prom-client or got.
import { parseHaproxySocket } from '../servers/haproxy/haproxy-runtime.js';
import { parseListenAddress } from '../metrics/metrics-server.js';
import { parseProxyUrl } from '../ocsp/proxy-agents.js';
import { DEFAULT_CONFIG, type StaplerdConfig } from './config-types.js';

/** Option values as given, before validation; keys are the YAML keys (camelCase of the flag names). */
export type RawOptions = Record<string, unknown>;

interface OptionSpec {
  /** How the option is named in messages for a flag. */
  readonly flag: string;
  readonly apply: (value: unknown, into: Mutable<StaplerdConfig>, baseDir: string) => void;
  /** The value may hold a password (proxy credentials): error messages must not echo it. */
  readonly secret?: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class BadValue extends Error {}

function expectString(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new BadValue('expected a non-empty string');
  return value;
}

function expectStringList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new BadValue('expected at least one value');
  return list.map(expectString);
}

function expectNumber(value: unknown, options: { min: number; max: number; integer?: boolean }): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number') throw new BadValue('expected a number');
  // YAML reads 1e400 and .inf as Infinity, and .nan as NaN: not a number anyone meant.
  if (!Number.isFinite(number)) throw new BadValue(`expected a finite number from ${options.min} to ${options.max}`);
  if (options.integer && !Number.isInteger(number)) throw new BadValue('expected a whole number');
  if (number < options.min || number > options.max) throw new BadValue(`expected a number from ${options.min} to ${options.max}`);
  return number;
}

function expectBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new BadValue('expected true or false');
}

function expectOneOf<T extends string>(value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new BadValue(`expected one of ${allowed.join(', ')}`);
}

function expectHttpUrl(value: unknown): string {
  const text = expectString(value);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BadValue('expected an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadValue('expected an http:// or https:// URL');
  return text;
}

function expectCron(value: unknown): string {
  const text = expectString(value);
  const fields = text.trim().split(/\s+/);
  // node-cron takes 5 fields, or 6 with seconds first.
  if (fields.length < 5 || fields.length > 6) throw new BadValue('expected a cron expression of 5 or 6 fields');
  return text;
}

/** A hook: an argv list (YAML) or one string split like a shell splits words (flag or YAML string). */
function expectCommand(value: unknown, flag: string): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) throw new BadValue('expected a command');
    return value.map(expectString);
  }
  try {
    return [...parseHookCommand(expectString(value), flag)];
  } catch (error) {
    throw new BadValue((error as Error).message);
  }
}

function expectHaproxySockets(value: unknown): string[] {
  const list = expectStringList(value);
  for (const item of list) {
    try {
      parseHaproxySocket(item);
    } catch (error) {
      throw new BadValue((error as Error).message);
    }
  }
  return list;
}

const SECOND_MS = 1000;

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { s: SECOND_MS, m: 60 * SECOND_MS, h: 3600 * SECOND_MS, d: 86_400 * SECOND_MS };

/** A duration as seconds (a number, or digits) or with units, `90s`, `30m`, `6h`, `1d`, `1h30m`; returns milliseconds. */
function parseDuration(value: unknown): number {
  if (typeof value === 'number' || (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value))) {
    const seconds = Number(value);
    if (!Number.isFinite(seconds) || seconds < 0) throw new BadValue('expected a duration such as 3600, 90s, 30m, 6h or 1d');
    return seconds * SECOND_MS;
  }
  const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (!/^(\d+(\.\d+)?[smhd])+$/.test(text)) throw new BadValue('expected a duration such as 3600, 90s, 30m, 6h or 1d');
  let totalMs = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)) totalMs += Number(amount) * DURATION_UNITS_MS[unit!]!;
  return totalMs;
}

function expectDuration(value: unknown, options: { maxMs: number }): number {
  const ms = parseDuration(value);
  if (ms > options.maxMs) throw new BadValue(`expected at most ${options.maxMs / 86_400_000} days`);
  return ms;
}

function expectListenAddress(value: unknown): string {
  const text = expectString(value).trim();
  try {
    parseListenAddress(text);
  } catch (error) {
    throw new BadValue((error as Error).message);
  }
  return text;
}

const PROXY_SOURCE = 'proxy';

function expectProxyUrl(value: unknown): string {
  const text = expectString(value).trim();
  try {
    parseProxyUrl(text, PROXY_SOURCE);
  } catch (error) {
    // parseProxyUrl prefixes its source ("proxy: "); the caller names the key or flag instead. It never echoes the URL.
    throw new BadValue((error as Error).message.replace(`${PROXY_SOURCE}: `, ''));
  }
  return text;
}

/** One table of every option: the YAML key, its flag, and how it is validated and stored. */
export const OPTION_SPECS: Readonly<Record<string, OptionSpec>> = {
  certs: { flag: '--certs', apply: (v, c, base) => (c.certs = expectStringList(v).map((p) => resolve(base, p))) },
  out: { flag: '--out', apply: (v, c, base) => (c.out = resolve(base, expectString(v))) },
  extensions: {
    flag: '--extensions',
    apply: (v, c) =>
      (c.extensions = expectStringList(v)
        .flatMap((e) => e.split(','))
        .map((e) => e.trim())
        .filter((e) => e !== '')
        .map((e) => (e.startsWith('.') ? e : `.${e}`))),
  },
  issuerDir: { flag: '--issuer-dir', apply: (v, c, base) => (c.issuerDir = resolve(base, expectString(v))) },
  responder: { flag: '--responder', apply: (v, c) => (c.responder = expectHttpUrl(v)) },
  timeout: { flag: '--timeout', apply: (v, c) => (c.timeoutMs = expectNumber(v, { min: 0.1, max: 300 }) * SECOND_MS) },
  concurrency: { flag: '--concurrency', apply: (v, c) => (c.concurrency = expectNumber(v, { min: 1, max: 1024, integer: true })) },
  perHostConcurrency: {
    flag: '--per-host-concurrency',
    apply: (v, c) => (c.perHostConcurrency = expectNumber(v, { min: 1, max: 256, integer: true })),
  },
  maxResponseSize: {
    flag: '--max-response-size',
    apply: (v, c) => (c.maxResponseBytes = expectNumber(v, { min: 1024, max: 16 * 1024 * 1024, integer: true })),
  },
  maxCertificateFileSize: {
    flag: '--max-cert-file-size',
    apply: (v, c) => (c.maxCertificateFileBytes = expectNumber(v, { min: 4096, max: 256 * 1024 * 1024, integer: true })),
  },
  maxCertificatesPerFile: {
    flag: '--max-certs-per-file',
    apply: (v, c) => (c.maxCertificatesPerFile = expectNumber(v, { min: 1, max: 100_000, integer: true })),
  },
  maxIssuerCandidates: {
    flag: '--max-issuer-candidates',
    apply: (v, c) => (c.maxIssuerCandidates = expectNumber(v, { min: 1, max: 10_000, integer: true })),
  },
  nonce: { flag: '--nonce', apply: (v, c) => (c.nonce = expectBoolean(v)) },
  clockSkew: { flag: '--clock-skew', apply: (v, c) => (c.clockSkewMs = expectNumber(v, { min: 0, max: 86_400 }) * SECOND_MS) },
  minRemaining: {
    flag: '--min-remaining',
    apply: (v, c) => (c.minRemainingMs = expectNumber(v, { min: 0, max: 7 * 86_400 }) * SECOND_MS),
  },
  lifetimeWithoutNextUpdate: {
    flag: '--lifetime-without-next-update',
    apply: (v, c) => (c.lifetimeWithoutNextUpdateMs = expectDuration(v, { maxMs: 7 * 86_400_000 })),
  },
  onRevoked: { flag: '--revoked-action', apply: (v, c) => (c.onRevoked = expectOneOf(v, ['staple', 'remove'] as const)) },
  onUpdate: { flag: '--on-update', apply: (v, c) => (c.onUpdate = expectCommand(v, '--on-update')) },
  onRevokedCommand: { flag: '--on-revoked', apply: (v, c) => (c.onRevokedCommand = expectCommand(v, '--on-revoked')) },
  hookTimeout: { flag: '--hook-timeout', apply: (v, c) => (c.hookTimeoutMs = expectNumber(v, { min: 0.1, max: 3600 }) * SECOND_MS) },
  stateDir: { flag: '--state-dir', apply: (v, c, base) => (c.stateDir = resolve(base, expectString(v))) },
  nginxSnippets: { flag: '--nginx-snippets', apply: (v, c) => (c.nginxSnippets = expectBoolean(v)) },
  issuerFiles: { flag: '--issuer-files', apply: (v, c) => (c.issuerFiles = expectBoolean(v)) },
  proxy: { flag: '--proxy', secret: true, apply: (v, c) => (c.proxy = expectProxyUrl(v)) },
  metrics: { flag: '--metrics', apply: (v, c) => (c.metrics = expectListenAddress(v)) },
  healthMargin: { flag: '--health-margin', apply: (v, c) => (c.healthMarginMs = expectDuration(v, { maxMs: 30 * 86_400_000 })) },
  haproxySockets: { flag: '--haproxy-socket', apply: (v, c) => (c.haproxySockets = expectHaproxySockets(v)) },
  logLevel: { flag: '--log-level', apply: (v, c) => (c.logLevel = expectOneOf(v, ['error', 'warn', 'info', 'debug'] as const)) },
  logFormat: { flag: '--log-format', apply: (v, c) => (c.logFormat = expectOneOf(v, ['json', 'text'] as const)) },
  sweep: { flag: '--sweep', apply: (v, c) => (c.sweep = expectCron(v)) },
  force: { flag: '--force', apply: (v, c) => (c.force = expectBoolean(v)) },
  watchDebounce: {
    flag: '--watch-debounce',
    apply: (v, c) => (c.watchDebounceMs = expectNumber(v, { min: 0, max: 60 }) * SECOND_MS),
  },
};

/** Where raw options came from: a file (with each top-level value's source text as written), or the command line. */
interface OptionSource {
  readonly file?: string;
  /** The value of a top-level key exactly as written in the file, for messages. */
  readonly writtenValues?: ReadonlyMap<string, string>;
}

/** Longest value or key quoted in a message: enough to recognise it, not enough to flood a log line. */
const MAX_SHOWN_CHARS = 120;

/** Applies every key given; returns the keys that were set, so defaults that depend on other keys can be derived. */
function applyOptions(raw: RawOptions, into: Mutable<StaplerdConfig>, baseDir: string, source: OptionSource): Set<string> {
  const applied = new Set<string>();
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const spec = findOptionSpec(key);
    if (!spec) {
      throw new StaplerdError('CONFIG_INVALID', `unknown configuration key ${quoteForMessage(key)}`, { file: source.file });
    }
    try {
      spec.apply(value, into, baseDir);
    } catch (error) {
      if (!(error instanceof BadValue)) throw error;
      const name = source.file ? `key "${key}"` : `option ${spec.flag}`;
      const where = source.file ? ` in ${source.file}` : '';
      const got = spec.secret ? '' : ` (got ${describeGivenValue(value, source.writtenValues?.get(key))})`;
      throw new StaplerdError(source.file ? 'CONFIG_INVALID' : 'USAGE', `${name}${where}: ${error.message}${got}`, {
        file: source.file,
      });
    }
    applied.add(key);
  }
  return applied;
}

/** Own keys of the table only: `__proto__`, `constructor`, `toString` or `hasOwnProperty` in a file are unknown keys,
 *  not Object.prototype's members (which gave "spec.apply is not a function", exit 1, or silent acceptance). */
function findOptionSpec(key: string): OptionSpec | undefined {
  return Object.hasOwn(OPTION_SPECS, key) ? OPTION_SPECS[key] : undefined;
}

/** The value as the operator wrote it when the file says (1e400, not the Infinity it parses to, which JSON shows as
 *  null), else as given on the command line. */
function describeGivenValue(value: unknown, written: string | undefined): string {
  if (written !== undefined) return truncateForMessage(written);
  if (typeof value === 'number') return String(value);
  return quoteForMessage(value);
}

function quoteForMessage(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return truncateForMessage(text);
}

function truncateForMessage(text: string): string {
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}...` : text;
}

/** A configuration file's top-level options and, per key, its value's source text. */
export interface ConfigFileContents {
  readonly options: RawOptions;
  readonly writtenValues: ReadonlyMap<string, string>;
}

/** Reads and parses a YAML configuration file into raw options (validated by resolveConfig). */
export async function readConfigFile(file: string): Promise<RawOptions> {
  return (await readConfigFileContents(file)).options;
}

/** Reads a YAML configuration file; syntax errors name file, line and column but never quote the source line (which
 *  may be `proxy: http://user:password@...`). */
export async function readConfigFileContents(file: string): Promise<ConfigFileContents> {
  let text: string;
  try {
    // Bounded and non-blocking: a FIFO here would freeze `run` on SIGHUP. 1 MiB is far beyond any real file.
    text = readRegularFileSync(file, { maxBytes: 1024 * 1024 }).toString('utf8');
  } catch (error) {
    const reason = error instanceof StaplerdError ? `${error.code} ${error.message}` : (error as Error).message;
    throw new StaplerdError('CONFIG_INVALID', `cannot read configuration file: ${reason}`, { file });
  }
  const yaml = await import('yaml');
  const lineCounter = new yaml.LineCounter();
  // prettyErrors: false keeps the yaml package from appending a code frame (the offending source line) to messages.
  const doc = yaml.parseDocument(text, { lineCounter, prettyErrors: false });
  const syntaxError = doc.errors[0];
  if (syntaxError !== undefined) throw yamlSyntaxError(syntaxError, lineCounter, file);
  let parsed: unknown;
  try {
    parsed = doc.toJS();
  } catch (error) {
    // toJS refuses alias bombs ("Excessive alias count") and unresolvable aliases.
    throw new StaplerdError('CONFIG_INVALID', `configuration file is not valid YAML: ${(error as Error).message}`, { file });
  }
  if (parsed === null || parsed === undefined) return { options: {}, writtenValues: new Map() };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new StaplerdError('CONFIG_INVALID', 'configuration file must be a YAML mapping of option names to values', { file });
  }
  return { options: parsed as RawOptions, writtenValues: collectWrittenValues(doc, text, yaml) };
}

function yamlSyntaxError(error: YAMLError, lineCounter: LineCounter, file: string): StaplerdError {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  // The first line only: the problem, never an excerpt of the file.
  const problem = truncateForMessage(error.message.split('\n')[0] ?? error.code);
  return new StaplerdError('CONFIG_INVALID', `configuration file is not valid YAML at line ${line}, column ${col}: ${problem}`, { file });
}

/** Source text of each top-level scalar value, keyed as toJS keys it (String of the key). */
function collectWrittenValues(doc: Document, text: string, { isMap, isScalar }: typeof import('yaml')): Map<string, string> {
  const written = new Map<string, string>();
  if (!isMap(doc.contents)) return written;
  for (const pair of doc.contents.items) {
    if (!isScalar(pair.key) || !isScalar(pair.value) || pair.value.range === undefined || pair.value.range === null) continue;
    const [start, valueEnd] = pair.value.range;
    written.set(String(pair.key.value), text.slice(start, valueEnd));
  }
  return written;
}

/** Defaults, then the YAML file (paths relative to the file), then flags (paths relative to cwd). */
export async function resolveConfig(input: { flags: RawOptions; configFile?: string; cwd?: string; requireCerts?: boolean }): Promise<StaplerdConfig> {
  const config: Mutable<StaplerdConfig> = { ...DEFAULT_CONFIG };
  const given = new Set<string>();
  if (input.configFile) {
    const file = resolve(input.cwd ?? process.cwd(), input.configFile);
    const contents = await readConfigFileContents(file);
    for (const key of applyOptions(contents.options, config, dirname(file), { file, writtenValues: contents.writtenValues })) given.add(key);
  }
  for (const key of applyOptions(input.flags, config, input.cwd ?? process.cwd(), {})) given.add(key);
  // HAProxy needs `<crt>.issuer` only beside the certificate it loads, i.e. when staples go there too (no `out`).
  if (!given.has('issuerFiles')) config.issuerFiles = config.out === undefined;
  if (input.requireCerts !== false && config.certs.length === 0) {
    throw new StaplerdError('USAGE', 'no certificate directory given: use --certs <dir> or "certs:" in the configuration file');
  }
  return config;
}
