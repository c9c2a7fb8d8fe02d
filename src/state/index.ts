// Public surface of the state module.
export * from './state-dir.js';
export * from './state-store.js';
export * from './validation-cache.js';
export * from './daemon-socket.js';
export * from './status-source.js';
export * from './undelivered-hook-paths.js';
