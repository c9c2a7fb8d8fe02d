// Public surface of the config module.
export * from './config-types.js';
export * from './load-config.js';
