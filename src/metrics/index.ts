// Public surface of the metrics module: Prometheus metrics, the /healthz verdict and the HTTP endpoint serving both.
export { createStaplerdMetrics, STAPLE_STATES, type StaplerdMetrics, type StaplerdMetricsOptions } from './staplerd-metrics.js';
export { evaluateHealth, hasValidStaple, startingHealth, statusCodeForHealth, type HealthProblem, type HealthReport } from './health.js';
export { parseListenAddress, startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics-server.js';
