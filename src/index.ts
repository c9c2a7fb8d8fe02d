// The package's library entry ("." in package.json exports): one export line per public name or module.
export { createStapleHandler, type StapleHandler, type StapleHandlerOptions, type OcspRequestListener, type OcspRequestCallback } from './servers/node-tls/index.js';
