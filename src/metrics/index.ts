// Public surface of the metrics module: Prometheus metrics, the /healthz verdict and the HTTP endpoint serving both.
export { createStaplerdMetrics, STAPLE_STATES, RESPONDER_LATENCY_BUCKETS_SECONDS, type StaplerdMetrics, type StaplerdMetricsOptions } from './staplerd-metrics.js';
export { evaluateHealth, hasValidStaple, isApplicable, startingHealth, statusCodeForHealth, type HealthProblem, type HealthReport } from './health.js';
export { parseListenAddress, startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics-server.js';
