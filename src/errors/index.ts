// Public surface of the errors module.
export { ERROR_CODES, policyForCode, isErrorCode, type ErrorCode, type CodePolicy, type LogLevel } from './error-codes.js';
export { StaplerdError, recodeError, toStaplerdError, type ErrorContext } from './staplerd-error.js';
export { redactSecrets } from './redact-secrets.js';
