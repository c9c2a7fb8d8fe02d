// Builds the StaplerdConfig: defaults, then an optional YAML file (read here, keeping each value as written for
// messages), then command-line flags (flags win), each key applied and validated through option-table.ts.
import { dirname, resolve } from 'node:path';
// Types only here: the parser itself is imported when a file is read (readConfigFileContents), so a run without
// --config never loads it (issue 13: about 8 MiB of a small daemon's resident memory).
import type { Document, LineCounter, YAMLError } from 'yaml';
import { StaplerdError } from '../errors/index.js';
import { readRegularFileSync } from '../fs/read-regular-file.js';
import { isTlsFleetUrl } from '../fleet/fleet-url.js';
import { DEFAULT_CONFIG, type StaplerdConfig } from './config-types.js';
import { applyOptions, truncateForMessage, type Mutable, type RawOptions } from './option-table.js';

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
  checkFleetCaFile(config);
  if (input.requireCerts !== false && config.certs.length === 0) {
    throw new StaplerdError('USAGE', 'no certificate directory given: use --certs <dir> or "certs:" in the configuration file');
  }
  return config;
}

/** A CA file is used for TLS only: with a plain redis:// or redis-sentinel:// URL it would silently do nothing. */
function checkFleetCaFile(config: StaplerdConfig): void {
  if (config.fleetCaFile === undefined || config.fleet === undefined || isTlsFleetUrl(config.fleet)) return;
  throw new StaplerdError(
    'CONFIG_INVALID',
    '--fleet-ca-file (fleetCaFile) needs a rediss:// --fleet URL: redis:// and redis-sentinel:// connections are not TLS, so the CA would never be used',
  );
}
