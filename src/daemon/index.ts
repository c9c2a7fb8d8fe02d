// Public surface of the daemon module.
export { StapleDaemon, type DaemonHooks } from './staple-daemon.js';
