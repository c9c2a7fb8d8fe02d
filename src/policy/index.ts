// Public surface of the policy module: pure scheduling and replacement decisions.
export { computeRefreshAt, isRefreshDue, type StapleWindow, type RefreshOptions } from './refresh-schedule.js';
export { computeNextAttempt, decideNextAttempt, isAwaitingInputChange, type BackoffInput, type FailureRetryInput, type InputChangeCheck } from './retry-backoff.js';
export { shouldReplaceStaple, type ResponseTimes } from './staple-replacement.js';
export { classifyStaple, type StapleState, type StapleFacts, type ClassifyInput } from './staple-state.js';
