// createStapleHandler: serves staplerd's `*.ocsp` files from memory to Node TLS servers through the 'OCSPRequest' event.
import { StaplerdError, toStaplerdError } from '../../errors/index.js';
import { Certificate, DEFAULT_CLOCK_SKEW_MS, DEFAULT_MIN_REMAINING_MS, readCertificateFile } from '../../pki/index.js';
import { systemClock, type Clock } from '../../types/index.js';
import { createDirectoryWatcher, type DirectoryWatcher } from './directory-watcher.js';
import { StapleSelector } from './select-staple.js';
import { StapleStore } from './staple-store.js';

/** Node's 'OCSPRequest' callback. Passing an error destroys the connection, so the handler always passes null. */
export type OcspRequestCallback = (error: Error | null, response: Buffer | null) => void;

/** A listener for `tlsServer.on('OCSPRequest', listener)` (Node docs, tls, Event: 'OCSPRequest'). */
export type OcspRequestListener = (certificate: Buffer, issuer: Buffer | null, callback: OcspRequestCallback) => void;

export interface StapleHandlerOptions {
  /** Directory holding `*.ocsp` staples (staplerd's default layout: the certificates directory; or its --out). */
  readonly dir?: string;
  /** Several directories; give `dir` or `dirs`. */
  readonly dirs?: readonly string[];
  /** Walk subdirectories (certbot live/NAME/, mirrored --out trees). Default true. */
  readonly recursive?: boolean;
  /** Reload when files change (fs.watch plus a periodic re-scan). Default true; false loads once (see reload()). */
  readonly watch?: boolean;
  /**
   * CA certificates (PEM text, possibly several, or DER) used to validate staples when Node passes no issuer, which
   * happens when the server's `cert` holds the leaf alone and the issuer is in neither the chain nor the CA store.
   */
  readonly issuers?: readonly (string | Uint8Array)[];
  /** Injected time; default the system clock. */
  readonly clock?: Clock;
  /** Tolerance for a thisUpdate in the future. Default 5 minutes, as the daemon. */
  readonly clockSkewMs?: number;
  /** A staple whose nextUpdate is closer than this is not served. Default 5 minutes, as the daemon. */
  readonly minRemainingMs?: number;
  /**
   * Problems: unreadable directories, malformed or invalid staples, expired ones (each once per file version).
   * Default: process.emitWarning. Never called with anything that stopped a handshake: a miss only loses the staple.
   */
  readonly onError?: (error: StaplerdError) => void;
  /** Quiet time after the last file event before re-scanning. Default 100 ms. */
  readonly debounceMs?: number;
  /** Safety re-scan for events fs.watch can miss (network filesystems, a directory created later). Default 60 s; 0 disables. */
  readonly rescanIntervalMs?: number;
}

export interface StapleHandler {
  readonly listener: OcspRequestListener;
  /** Resolves once the first load is done and the directories are watched. Never rejects (problems go to onError). */
  readonly ready: Promise<void>;
  /** Staple files currently loaded. */
  readonly size: number;
  /** Re-scans now; resolves when memory matches the disk. */
  reload(): Promise<void>;
  /** Stops watching and re-scanning. The listener keeps answering from memory (time windows still checked). */
  close(): Promise<void>;
}

const DEFAULT_DEBOUNCE_MS = 100;
const DEFAULT_RESCAN_INTERVAL_MS = 60_000;

/** Throws StaplerdError CONFIG_INVALID for bad options; everything after that is reported, never thrown. */
export function createStapleHandler(options: StapleHandlerOptions): StapleHandler {
  const roots = readRoots(options);
  const issuers = parseIssuers(options.issuers ?? []);
  const report = createReporter(options.onError);
  const watcher = options.watch === false ? undefined : startWatcher(options, report, () => void store.rescan());
  const store = new StapleStore({
    roots,
    recursive: options.recursive ?? true,
    onError: report,
    ...(watcher ? { onDirectories: (dirs: readonly string[]) => watcher.track(dirs) } : {}),
  });
  const selector = new StapleSelector({
    source: store,
    clock: options.clock ?? systemClock,
    window: { clockSkewMs: options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS, minRemainingMs: options.minRemainingMs ?? DEFAULT_MIN_REMAINING_MS },
    issuers,
    report,
  });
  const interval = watcher ? startRescanInterval(options.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS, store) : undefined;
  return {
    listener: createListener(selector, report),
    ready: store.rescan(),
    get size() {
      return store.size;
    },
    reload: () => store.rescan(),
    async close() {
      clearInterval(interval);
      watcher?.close();
      await store.settle();
    },
  };
}

/** Answers every request exactly once with (null, staple) or (null, null); nothing is thrown into the TLS stack. */
function createListener(selector: StapleSelector, report: (error: StaplerdError) => void): OcspRequestListener {
  return (certificate, issuer, callback) => {
    void selector.select(certificate, issuer)
      .catch((error: unknown) => {
        report(toStaplerdError(error));
        return null;
      })
      .then((staple) => {
        try {
          callback(null, staple);
        } catch (error) {
          report(toStaplerdError(error));
        }
      });
  };
}

function readRoots(options: StapleHandlerOptions): string[] {
  if ((options.dir === undefined) === (options.dirs === undefined)) {
    throw new StaplerdError('CONFIG_INVALID', 'createStapleHandler needs exactly one of `dir` or `dirs`');
  }
  const roots = options.dir !== undefined ? [options.dir] : [...options.dirs!];
  if (roots.length === 0 || roots.some((root) => typeof root !== 'string' || root === '')) {
    throw new StaplerdError('CONFIG_INVALID', 'createStapleHandler: staple directories must be non-empty paths');
  }
  return roots;
}

function parseIssuers(items: readonly (string | Uint8Array)[]): Certificate[] {
  try {
    return items.flatMap((item) => {
      const bytes = typeof item === 'string' ? new Uint8Array(Buffer.from(item, 'latin1')) : item;
      return readCertificateFile(bytes).certificates.map((der) => Certificate.fromDer(der));
    });
  } catch (error) {
    throw new StaplerdError('CONFIG_INVALID', `createStapleHandler: an \`issuers\` entry is not a certificate: ${(error as Error).message}`, {}, { cause: error });
  }
}

function startWatcher(options: StapleHandlerOptions, report: (error: StaplerdError) => void, onChange: () => void): DirectoryWatcher {
  return createDirectoryWatcher({
    debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    onChange,
    onError: (error, dir) => report(new StaplerdError('WATCH_FAILED', `cannot watch staple directory (the periodic re-scan still covers it): ${error.message}`, { file: dir }, { cause: error })),
  });
}

function startRescanInterval(intervalMs: number, store: StapleStore): NodeJS.Timeout | undefined {
  if (intervalMs <= 0) return undefined;
  // Unref'd: the watchers (or the server) keep the process alive, never this timer alone.
  return setInterval(() => void store.rescan(), intervalMs).unref();
}

/** A throwing onError must not reach the TLS stack either. */
function createReporter(onError: ((error: StaplerdError) => void) | undefined): (error: StaplerdError) => void {
  const sink = onError ?? emitWarning;
  return (error) => {
    try {
      sink(error);
    } catch {
      // Nothing sensible is left to report to.
    }
  };
}

function emitWarning(error: StaplerdError): void {
  const where = error.file && !error.message.includes(error.file) ? `${error.file}: ` : '';
  process.emitWarning(`${where}${error.message}`, { type: 'StaplerdWarning', code: error.code });
}
