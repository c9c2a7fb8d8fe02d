// How the daemon plugs in its metrics: the listener kept in step with the configuration, and OCSP attempts counted.
import type { PassDependencies } from '../pass/index.js';
import { MetricsEndpoint, type MetricsSource } from './metrics-endpoint.js';

/**
 * Starts, rebinds or closes the metrics listener to match `listen`. At start a failure to bind throws
 * (CONFIG_INVALID, exit 2); on reload it is logged and the previous address kept (MetricsEndpoint.reconfigure).
 * Returns the endpoint when one was started here, undefined when `current` was reconfigured or none is wanted.
 */
export async function syncMetricsEndpoint(
  current: MetricsEndpoint | undefined,
  listen: string | undefined,
  source: MetricsSource,
  isStopping: () => boolean,
): Promise<MetricsEndpoint | undefined> {
  if (current) {
    await current.reconfigure(listen);
    current.syncFleet();
    return undefined;
  }
  if (listen === undefined) return undefined;
  const endpoint = await MetricsEndpoint.start(listen, source);
  // SIGTERM while the port was being bound: stop() found no listener to close, so this one must not stay open.
  if (isStopping()) {
    await endpoint.close();
    return undefined;
  }
  return endpoint;
}

/**
 * The pass dependencies, with every OCSP attempt also counted by the metrics when they are on. `deps` is read when
 * a staple file failure is reported, not only now: a reload during the pass may have replaced them.
 */
export function countedByMetrics(metrics: MetricsEndpoint | undefined, deps: () => PassDependencies): PassDependencies {
  const current = deps();
  if (!metrics) return current;
  const observeOuter = current.observeFetch;
  return {
    ...current,
    observeFetch: (observation) => {
      metrics.observeFetch(observation);
      observeOuter?.(observation);
    },
    observeStapleFileFailure: (failure) => {
      metrics.observeStapleFileFailure(failure);
      deps().observeStapleFileFailure?.(failure);
    },
  };
}
