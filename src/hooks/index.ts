// Public surface of the hooks module: operator commands and HAProxy runtime pushes.
export { parseHookCommand, runHook, type HookCommand, type HookResult } from './run-hook.js';
export { parseHaproxySocket, pushOcspResponse, type HaproxySocketAddress } from './haproxy-runtime.js';
