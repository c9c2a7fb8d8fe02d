// Builds the StaplerdConfig from defaults, an optional YAML file and command-line flags (flags win), validating each key.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { StaplerdError } from '../errors/index.js';
import { parseHaproxySocket, parseHookCommand } from '../hooks/index.js';
import { DEFAULT_CONFIG, type StaplerdConfig } from './config-types.js';

/** Option values as given, before validation; keys are the YAML keys (camelCase of the flag names). */
export type RawOptions = Record<string, unknown>;

interface OptionSpec {
  /** How the option is named in messages for a flag. */
  readonly flag: string;
  readonly apply: (value: unknown, into: Mutable<StaplerdConfig>, baseDir: string) => void;
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
  if (typeof number !== 'number' || !Number.isFinite(number)) throw new BadValue('expected a number');
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
  nonce: { flag: '--nonce', apply: (v, c) => (c.nonce = expectBoolean(v)) },
  clockSkew: { flag: '--clock-skew', apply: (v, c) => (c.clockSkewMs = expectNumber(v, { min: 0, max: 86_400 }) * SECOND_MS) },
  minRemaining: {
    flag: '--min-remaining',
    apply: (v, c) => (c.minRemainingMs = expectNumber(v, { min: 0, max: 7 * 86_400 }) * SECOND_MS),
  },
  onRevoked: { flag: '--revoked-action', apply: (v, c) => (c.onRevoked = expectOneOf(v, ['staple', 'remove'] as const)) },
  onUpdate: { flag: '--on-update', apply: (v, c) => (c.onUpdate = expectCommand(v, '--on-update')) },
  onRevokedCommand: { flag: '--on-revoked', apply: (v, c) => (c.onRevokedCommand = expectCommand(v, '--on-revoked')) },
  hookTimeout: { flag: '--hook-timeout', apply: (v, c) => (c.hookTimeoutMs = expectNumber(v, { min: 0.1, max: 3600 }) * SECOND_MS) },
  stateDir: { flag: '--state-dir', apply: (v, c, base) => (c.stateDir = resolve(base, expectString(v))) },
  nginxSnippets: { flag: '--nginx-snippets', apply: (v, c) => (c.nginxSnippets = expectBoolean(v)) },
  issuerFiles: { flag: '--issuer-files', apply: (v, c) => (c.issuerFiles = expectBoolean(v)) },
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

function applyOptions(raw: RawOptions, into: Mutable<StaplerdConfig>, baseDir: string, source: { file?: string }): void {
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const spec = OPTION_SPECS[key];
    if (!spec) {
      throw new StaplerdError('CONFIG_INVALID', `unknown configuration key "${key}"`, { file: source.file });
    }
    try {
      spec.apply(value, into, baseDir);
    } catch (error) {
      if (!(error instanceof BadValue)) throw error;
      const name = source.file ? `key "${key}"` : `option ${spec.flag}`;
      const where = source.file ? ` in ${source.file}` : '';
      throw new StaplerdError(source.file ? 'CONFIG_INVALID' : 'USAGE', `${name}${where}: ${error.message} (got ${JSON.stringify(value)})`, {
        file: source.file,
      });
    }
  }
}

/** Reads and parses a YAML configuration file into raw options (validated by resolveConfig). */
export async function readConfigFile(file: string): Promise<RawOptions> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new StaplerdError('CONFIG_INVALID', `cannot read configuration file: ${(error as Error).message}`, { file });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new StaplerdError('CONFIG_INVALID', `configuration file is not valid YAML: ${(error as Error).message}`, { file });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new StaplerdError('CONFIG_INVALID', 'configuration file must be a YAML mapping of option names to values', { file });
  }
  return parsed as RawOptions;
}

/** Defaults, then the YAML file (paths relative to the file), then flags (paths relative to cwd). */
export async function resolveConfig(input: { flags: RawOptions; configFile?: string; cwd?: string; requireCerts?: boolean }): Promise<StaplerdConfig> {
  const config: Mutable<StaplerdConfig> = { ...DEFAULT_CONFIG };
  if (input.configFile) {
    const file = resolve(input.cwd ?? process.cwd(), input.configFile);
    const raw = await readConfigFile(file);
    applyOptions(raw, config, dirname(file), { file });
  }
  applyOptions(input.flags, config, input.cwd ?? process.cwd(), {});
  if (input.requireCerts !== false && config.certs.length === 0) {
    throw new StaplerdError('USAGE', 'no certificate directory given: use --certs <dir> or "certs:" in the configuration file');
  }
  return config;
}
