// Public surface of the log module.
export * from './logger.js';
