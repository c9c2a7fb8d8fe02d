// Public surface of the policy module: pure scheduling and replacement decisions.
export { computeRefreshAt, isRefreshDue, type StapleWindow, type RefreshOptions } from './refresh-schedule.js';
export { computeNextAttempt, decideNextAttempt, decideRetryAfterFailedPass, isAwaitingInputChange, type BackoffInput, type FailedPassInput, type FailureRetryInput, type InputChangeCheck } from './retry-backoff.js';
export { shouldReplaceStaple, type ResponseTimes } from './staple-replacement.js';
export { classifyStaple, type StapleState, type StapleFacts, type ClassifyInput } from './staple-state.js';
export { shouldReplaceStapleOnDisk, pickNewestStaple, type ReplaceableStaple } from './staple-replacement.js';
export { computeUsableUntil, isUsableAt, isGoodAt, type StapleLifetime } from './staple-usability.js';
export { decideFetch, type FetchDecision, type FetchDecisionInput, type AttemptHistory } from './fetch-decision.js';
export { computeCrlRefreshAt, computeCrlWakeAt, isCrlRefreshDue, CRL_MAX_CHECK_INTERVAL_MS, CRL_RETRY_AFTER_FAILURE_MS, type CrlRefreshInput, type KeptCrlTimes } from './crl-refresh.js';
