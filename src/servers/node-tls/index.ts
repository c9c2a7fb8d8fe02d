// Public surface of the node-tls module: the staple handler for Node's 'OCSPRequest' event.
export {
  createStapleHandler,
  type StapleHandler, type StapleHandlerOptions, type OcspRequestListener, type OcspRequestCallback,
} from './staple-handler.js';
