// The only module that imports winston: builds the structured event logger (json for journald/shippers, text for people).
import winston from 'winston';
import type { LogLevel } from '../errors/index.js';
import { escapeControlCharacters, escapeJsonLine } from './escape-control-characters.js';

export type LogFormat = 'json' | 'text';
export type LoggerLevel = LogLevel | 'debug';

/** Fields of one structured event, e.g. { file, serial, code, thisUpdate, nextUpdate }. */
export type EventFields = Record<string, unknown>;

/** What the rest of staplerd sees: one call per outcome, named by event (`staple.written`, `fetch.failed`, ...). */
export interface EventLogger {
  log(level: LoggerLevel, event: string, message: string, fields?: EventFields): void;
  /** Whether an event at `level` is written: a caller that builds fields for every certificate (a debug event) asks
   *  first, so a pass at level info builds none (docs/performance.md). */
  isEnabled(level: LoggerLevel): boolean;
  close(): Promise<void>;
}

export interface LoggerOptions {
  level: LoggerLevel;
  format: LogFormat;
  /** Defaults to stderr, so `once` keeps stdout for its summary. */
  stream?: NodeJS.WritableStream;
}

function formatText(info: winston.Logform.TransformableInfo): string {
  const { level, message, timestamp, event, ...rest } = info as Record<string, unknown>;
  const fields = Object.entries(rest)
    .filter(([key, value]) => value !== undefined && typeof key === 'string')
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(' ');
  // Messages carry text from outside (HAProxy replies, responder errors, file names): raw, a newline in one would forge
  // a whole log line (`\n... error cert.revoked ...`) and an ESC sequence would reach the operator's terminal.
  const text = escapeControlCharacters(String(message));
  return `${String(timestamp)} ${String(level).padEnd(5)} ${escapeControlCharacters(String(event ?? '-'))}: ${text}${fields ? ` ${fields}` : ''}`;
}

/** `key=value`, the value escaped like the message and quoted when it holds a space or a quote, so the line splits
 *  back into its fields. */
function formatValue(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  const text = escapeControlCharacters(typeof value === 'string' ? value : String(JSON.stringify(value)));
  return /[\s"]/.test(text) ? `"${text.replace(/"/g, '\\"')}"` : text;
}

/** winston's key for the finished line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

/** JSON lines are already one line each; this also escapes the few characters JSON.stringify leaves raw. */
const escapeJsonOutput = winston.format((info) => {
  const line = (info as unknown as Record<symbol, unknown>)[MESSAGE];
  if (typeof line === 'string') (info as unknown as Record<symbol, unknown>)[MESSAGE] = escapeJsonLine(line);
  return info;
});

const LEVEL_PRIORITIES: Record<LoggerLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const LOGGER_LEVELS = Object.keys(LEVEL_PRIORITIES) as LoggerLevel[];

export function createLogger(options: LoggerOptions): EventLogger {
  const stream = options.stream ?? process.stderr;
  const format =
    options.format === 'json'
      ? winston.format.combine(winston.format.timestamp(), winston.format.json(), escapeJsonOutput())
      : winston.format.combine(winston.format.timestamp(), winston.format.printf(formatText));
  const logger = winston.createLogger({
    level: options.level,
    levels: LEVEL_PRIORITIES,
    format,
    transports: [new winston.transports.Stream({ stream })],
  });
  // The level is fixed for the logger's life: asked of winston once, not for every event (its check allocates).
  const enabledLevels = new Set(LOGGER_LEVELS.filter((level) => logger.isLevelEnabled(level)));
  return {
    log(level, event, message, fields = {}) {
      // winston formats an event before its transport drops it by level: a 10,000-certificate pass logs one debug
      // event per fresh staple, so disabled levels return before any work (docs/performance.md).
      if (!enabledLevels.has(level)) return;
      logger.log({ level, message, event, ...serialiseFields(fields) });
    },
    isEnabled: (level) => enabledLevels.has(level),
    close() {
      return new Promise((resolve) => {
        logger.on('finish', () => resolve());
        logger.end();
        // The Stream transport never closes process.stderr; 'finish' can lag, so do not wait forever.
        setTimeout(resolve, 200).unref();
      });
    },
  };
}

function serialiseFields(fields: EventFields): EventFields {
  const out: EventFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: EventLogger = { log() {}, isEnabled: () => false, close: async () => {} };

/** A logger that records events in memory, for tests. */
export function createMemoryLogger(): EventLogger & { events: { level: LoggerLevel; event: string; message: string; fields: EventFields }[] } {
  const events: { level: LoggerLevel; event: string; message: string; fields: EventFields }[] = [];
  return {
    events,
    log(level, event, message, fields = {}) {
      events.push({ level, event, message, fields });
    },
    isEnabled: () => true,
    close: async () => {},
  };
}
