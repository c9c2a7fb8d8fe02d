// Value parsers for the options: each checks one value's shape and returns it typed, or throws BadValue with what
// was expected (option-table.ts names the key or flag and the value given).
import { parseHookCommand } from '../hooks/index.js';
// The parsers only, not the index: loading the config must not load prom-client or got.
import { parseHaproxySocket } from '../servers/haproxy/haproxy-runtime.js';
import { parseListenAddress } from '../metrics/metrics-server.js';
import { parseProxyUrl } from '../ocsp/proxy-agents.js';
import { isValidFleetPrefix, MAX_FLEET_PREFIX_LENGTH } from '../fleet/fleet-keys.js';
import { parseFleetUrl } from '../fleet/fleet-url.js';

/** A value of the wrong shape: caught by applyOptions, which turns it into CONFIG_INVALID or USAGE. */
export class BadValue extends Error {}

export function expectString(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new BadValue('expected a non-empty string');
  return value;
}

export function expectStringList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new BadValue('expected at least one value');
  return list.map(expectString);
}

export function expectNumber(value: unknown, options: { min: number; max: number; integer?: boolean }): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number') throw new BadValue('expected a number');
  // YAML reads 1e400 and .inf as Infinity, and .nan as NaN: not a number anyone meant.
  if (!Number.isFinite(number)) throw new BadValue(`expected a finite number from ${options.min} to ${options.max}`);
  if (options.integer && !Number.isInteger(number)) throw new BadValue('expected a whole number');
  if (number < options.min || number > options.max) throw new BadValue(`expected a number from ${options.min} to ${options.max}`);
  return number;
}

export function expectBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new BadValue('expected true or false');
}

/** Runs a parser another module owns; what it throws becomes this value's BadValue (its message, optionally reworded). */
function asBadValue<T>(parse: () => T, reword: (message: string) => string = (message) => message): T {
  try {
    return parse();
  } catch (error) {
    throw new BadValue(reword((error as Error).message));
  }
}

export function expectOneOf<T extends string>(value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new BadValue(`expected one of ${allowed.join(', ')}`);
}

export function expectHttpUrl(value: unknown): string {
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

export function expectCron(value: unknown): string {
  const text = expectString(value);
  const fields = text.trim().split(/\s+/);
  // node-cron takes 5 fields, or 6 with seconds first.
  if (fields.length < 5 || fields.length > 6) throw new BadValue('expected a cron expression of 5 or 6 fields');
  return text;
}

/** A hook: an argv list (YAML) or one string split like a shell splits words (flag or YAML string). */
export function expectCommand(value: unknown, flag: string): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) throw new BadValue('expected a command');
    return value.map(expectString);
  }
  const text = expectString(value);
  return asBadValue(() => [...parseHookCommand(text, flag)]);
}

export function expectHaproxySockets(value: unknown): string[] {
  const list = expectStringList(value);
  for (const item of list) asBadValue(() => parseHaproxySocket(item));
  return list;
}

export const SECOND_MS = 1000;

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

export function expectDuration(value: unknown, options: { maxMs: number }): number {
  const ms = parseDuration(value);
  if (ms > options.maxMs) throw new BadValue(`expected at most ${options.maxMs / 86_400_000} days`);
  return ms;
}

export function expectListenAddress(value: unknown): string {
  const text = expectString(value).trim();
  asBadValue(() => parseListenAddress(text));
  return text;
}

const PROXY_SOURCE = 'proxy';

export function expectProxyUrl(value: unknown): string {
  const text = expectString(value).trim();
  // parseProxyUrl prefixes its source ("proxy: "); the caller names the key or flag instead. It never echoes the URL.
  asBadValue(() => parseProxyUrl(text, PROXY_SOURCE), (message) => message.replace(`${PROXY_SOURCE}: `, ''));
  return text;
}

/** A Redis URL for --fleet (fleet/fleet-url.ts owns the syntax); messages never echo it (it may hold a password). */
export function expectFleetUrl(value: unknown): string {
  const text = expectString(value).trim();
  asBadValue(() => parseFleetUrl(text));
  return text;
}

/** --fleet-prefix: printable, no spaces, bounded (fleet/fleet-keys.ts owns the rule). */
export function expectFleetPrefix(value: unknown): string {
  const text = expectString(value);
  if (!isValidFleetPrefix(text)) throw new BadValue(`must be 1 to ${MAX_FLEET_PREFIX_LENGTH} printable characters without spaces`);
  return text;
}
