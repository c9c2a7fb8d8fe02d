// The daemon's certificate watch set up from its configuration: changes logged and turned into passes, failures logged.
import type { StaplerdConfig } from '../config/index.js';
import { StaplerdError } from '../errors/index.js';
import { logFailure, type EventLogger } from '../log/index.js';
import { watchCertificates, type CertificateWatcher } from './certificate-watcher.js';

/** Read at each event: the daemon's config and logger change on reload. */
export interface WatchSource {
  config(): StaplerdConfig;
  logger(): EventLogger;
}

/** Watches the configured directories; `onChange` is called for every settled certificate change. */
export function watchConfiguredCertificates(source: WatchSource, onChange: () => void): CertificateWatcher {
  const config = source.config();
  return watchCertificates({
    dirs: config.certs,
    extensions: config.extensions,
    settleMs: config.watchDebounceMs,
    onChange: (event, path) => {
      // The field is `change`, not `event`: `event` is the log line's own name (cert.changed) and would be overwritten.
      source.logger().log('info', 'cert.changed', `certificate file ${event}`, { file: path, change: event });
      onChange();
    },
    // Its own code (it was CERT_UNREADABLE, which names one certificate file): the sweep still finds what is missed.
    onError: (error) => logFailure(source.logger(), 'watch.failed', new StaplerdError('WATCH_FAILED', error.message, {}, { cause: error }), { sweep: source.config().sweep }),
    // The same directories the passes refuse (scan.refused): not watched either.
    onRefused: (dir, reason) => logFailure(source.logger(), 'watch.refused', new StaplerdError('DIRECTORY_REFUSED', `${reason}; not watched`, { file: dir })),
  });
}
