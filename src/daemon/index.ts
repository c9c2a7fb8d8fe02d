// Public surface of the daemon module.
export { StapleDaemon, type DaemonHooks } from './staple-daemon.js';
export { ReloadQueue } from './reload-queue.js';
