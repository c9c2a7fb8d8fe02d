// The only module that imports chokidar: watches the certificate directories and reports settled changes.
import { watch, type FSWatcher } from 'chokidar';

export interface CertificateWatcher {
  /** Resolves once the initial scan is done and every directory is watched. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchOptions {
  readonly dirs: readonly string[];
  readonly extensions: readonly string[];
  /** How long a file must stay unchanged before it counts as written (certbot and editors write in several steps). */
  readonly settleMs: number;
  readonly onChange: (event: 'add' | 'change' | 'unlink', path: string) => void;
  readonly onError: (error: Error) => void;
}

function isCertificateName(path: string, extensions: readonly string[]): boolean {
  const lower = path.toLowerCase();
  return extensions.some((ext) => lower.endsWith(ext.toLowerCase()));
}

/** staplerd's own files beside certificates (staples, temp files, HAProxy issuers, nginx snippets): never certificates. */
const OWN_OUTPUT = /\.(?:ocsp|tmp|issuer|stapling\.conf)$/i;

export function watchCertificates(options: WatchOptions): CertificateWatcher {
  const watcher: FSWatcher = watch([...options.dirs], {
    ignoreInitial: true,
    // certbot's live/ holds symlinks into archive/; a renewal re-points them.
    followSymlinks: true,
    // Our own staples and temp files live beside certificates by default: never react to them. They are recognised by
    // name first, so none of them gets its own fs.watch (10,000 staples would be 10,000 more watches and listeners);
    // anything else that is a file and not named like a certificate is ignored once its stats are known.
    ignored: (path, stats) => OWN_OUTPUT.test(path) || (stats?.isFile() === true && !isCertificateName(path, options.extensions)),
    awaitWriteFinish: options.settleMs > 0 ? { stabilityThreshold: options.settleMs, pollInterval: Math.min(100, options.settleMs) } : false,
  });
  watcher.on('add', (path) => options.onChange('add', path));
  watcher.on('change', (path) => options.onChange('change', path));
  watcher.on('unlink', (path) => options.onChange('unlink', path));
  watcher.on('error', (error) => options.onError(error as Error));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    close: () => watcher.close(),
  };
}
