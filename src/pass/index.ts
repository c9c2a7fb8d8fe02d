// Public surface of the pass module: one pass over every certificate, and what goes in and out of it.
export * from './pass-types.js';
export * from './collect-targets.js';
export * from './run-pass.js';
export { processTarget, type FetchValidated } from './process-target.js';
export { createLiveDependencies, createPassCaIssuerFetcher, type LiveDependencies } from './create-dependencies.js';
export { publishPassResults, createPublishState, drainHooks, loadPublishState, type PublishState } from './publish-results.js';
export { buildStatusRows } from './status-rows.js';
