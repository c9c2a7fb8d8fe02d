// Public surface of the hooks module: the operator's commands (HAProxy runtime pushes: servers/haproxy/).
export { parseHookCommand, runHook, type HookCommand, type HookResult } from './run-hook.js';
