// Public surface of the log module.
export * from './logger.js';
export * from './log-failure.js';
export * from './escape-control-characters.js';
