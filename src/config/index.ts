// Public surface of the config module.
export * from './config-types.js';
export * from './load-config.js';
export { OPTION_SPECS, type RawOptions } from './option-table.js';
