// The table of every option (YAML key, flag, parser, field) and applying raw options through it, with messages that
// name the key or flag and the value as given.
import { resolve } from 'node:path';
import { StaplerdError } from '../errors/index.js';
import type { StaplerdConfig } from './config-types.js';
import {
  BadValue,
  SECOND_MS,
  expectBoolean,
  expectCommand,
  expectCron,
  expectDuration,
  expectFleetPrefix,
  expectFleetUrl,
  expectHaproxySockets,
  expectHttpUrl,
  expectListenAddress,
  expectNumber,
  expectOneOf,
  expectProxyUrl,
  expectString,
  expectStringList,
} from './option-values.js';

/** Option values as given, before validation; keys are the YAML keys (camelCase of the flag names). */
export type RawOptions = Record<string, unknown>;

interface OptionSpec {
  /** How the option is named in messages for a flag. */
  readonly flag: string;
  readonly apply: (value: unknown, into: Mutable<StaplerdConfig>, baseDir: string) => void;
  /** The value may hold a password (proxy credentials): error messages must not echo it. */
  readonly secret?: boolean;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

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
  fleet: { flag: '--fleet', secret: true, apply: (v, c) => (c.fleet = expectFleetUrl(v)) },
  fleetPrefix: { flag: '--fleet-prefix', apply: (v, c) => (c.fleetPrefix = expectFleetPrefix(v)) },
  fleetPasswordFile: { flag: '--fleet-password-file', apply: (v, c, base) => (c.fleetPasswordFile = resolve(base, expectString(v))) },
  fleetCaFile: { flag: '--fleet-ca-file', apply: (v, c, base) => (c.fleetCaFile = resolve(base, expectString(v))) },
  metrics: { flag: '--metrics', apply: (v, c) => (c.metrics = expectListenAddress(v)) },
  healthMargin: { flag: '--health-margin', apply: (v, c) => (c.healthMarginMs = expectDuration(v, { maxMs: 30 * 86_400_000 })) },
  haproxySockets: { flag: '--haproxy-socket', apply: (v, c) => (c.haproxySockets = expectHaproxySockets(v)) },
  logLevel: { flag: '--log-level', apply: (v, c) => (c.logLevel = expectOneOf(v, ['error', 'warn', 'info', 'debug'] as const)) },
  logFormat: { flag: '--log-format', apply: (v, c) => (c.logFormat = expectOneOf(v, ['json', 'text'] as const)) },
  sweep: { flag: '--sweep', apply: (v, c) => (c.sweep = expectCron(v)) },
  force: { flag: '--force', apply: (v, c) => (c.force = expectBoolean(v)) },
  crlCheck: { flag: '--crl-check', apply: (v, c) => (c.crlCheck = expectOneOf(v, ['no-ocsp', 'always', 'never'] as const)) },
  maxCrlSize: {
    flag: '--max-crl-size',
    apply: (v, c) => (c.maxCrlBytes = expectNumber(v, { min: 1024, max: 1024 * 1024 * 1024, integer: true })),
  },
  watchDebounce: {
    flag: '--watch-debounce',
    apply: (v, c) => (c.watchDebounceMs = expectNumber(v, { min: 0, max: 60 }) * SECOND_MS),
  },
};

/** Where raw options came from: a file (with each top-level value's source text as written), or the command line. */
export interface OptionSource {
  readonly file?: string;
  /** The value of a top-level key exactly as written in the file, for messages. */
  readonly writtenValues?: ReadonlyMap<string, string>;
}

/** Longest value or key quoted in a message: enough to recognise it, not enough to flood a log line. */
const MAX_SHOWN_CHARS = 120;

/** Applies every key given; returns the keys that were set, so defaults that depend on other keys can be derived. */
export function applyOptions(raw: RawOptions, into: Mutable<StaplerdConfig>, baseDir: string, source: OptionSource): Set<string> {
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

export function truncateForMessage(text: string): string {
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}...` : text;
}
