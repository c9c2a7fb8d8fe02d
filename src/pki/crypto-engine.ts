// Points pkijs at Node's WebCrypto once; every pki module imports this before touching pkijs.
import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

let installed = false;

export function ensureCryptoEngine(): void {
  if (installed) return;
  const crypto = webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'];
  pkijs.setEngine('node-webcrypto', new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto }));
  installed = true;
}

ensureCryptoEngine();

export { pkijs };
