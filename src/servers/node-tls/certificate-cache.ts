// Parses the DER certificates Node passes to 'OCSPRequest' once: a server presents the same few on every handshake.
import { createHash } from 'node:crypto';
import { toStaplerdError, type StaplerdError } from '../../errors/index.js';
import { Certificate } from '../../pki/index.js';

/** Enough for a server with many SNI certificates; past it the least recently used entry goes. */
const DEFAULT_MAX_ENTRIES = 256;

export class CertificateCache {
  readonly #entries = new Map<string, Certificate | StaplerdError>();
  readonly #maxEntries: number;
  readonly #onParseError: (error: StaplerdError) => void;

  /** onParseError is called once per distinct unparsable DER, not on every handshake. */
  constructor(onParseError: (error: StaplerdError) => void, maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#onParseError = onParseError;
    this.#maxEntries = maxEntries;
  }

  /** The parsed certificate, or undefined when the bytes are not one. */
  parse(der: Uint8Array): Certificate | undefined {
    const key = createHash('sha256').update(der).digest('hex');
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = parseQuietly(der);
      if (!(entry instanceof Certificate)) this.#onParseError(entry);
    }
    // Re-inserting moves the key to the end of the Map's order, which makes the first key the least recently used.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    return entry instanceof Certificate ? entry : undefined;
  }
}

function parseQuietly(der: Uint8Array): Certificate | StaplerdError {
  try {
    return Certificate.fromDer(der);
  } catch (error) {
    return toStaplerdError(error, 'CERT_PARSE_FAILED');
  }
}
