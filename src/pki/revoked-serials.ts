// The revoked serials of a validated CRL in one sorted Buffer: a few bytes per entry instead of a decoded object each.
import { DerError } from './der.js';

/** RFC 5280 5.3.1 CRLReason values by number (7 is unused). */
export const CRL_REASONS: Readonly<Record<number, string>> = {
  0: 'unspecified', 1: 'keyCompromise', 2: 'cACompromise', 3: 'affiliationChanged', 4: 'superseded',
  5: 'cessationOfOperation', 6: 'certificateHold', 8: 'removeFromCRL', 9: 'privilegeWithdrawn', 10: 'aACompromise',
};

/** RFC 5280 4.1.2.2: serials are at most 20 octets; longer ones (non-conforming CAs) go to a small side map. */
const KEY_BYTES = 21;
/** Key (length octet + serial right-aligned), reason octet (0xff: none), revocationDate as a float64 of ms. */
const RECORD_BYTES = KEY_BYTES + 1 + 8;
const NO_REASON = 0xff;

export interface Revocation {
  readonly revocationTime: Date;
  /** CRLReason name, when the entry gives one. */
  readonly reason?: string;
}

/** Collects entries while a CRL is walked, then packs them: the strings live only until build(). */
export class RevokedSerialsBuilder {
  readonly #records: string[] = [];
  readonly #long = new Map<string, Revocation>();

  /** `serial` is the INTEGER contents as encoded; leading zero octets are ignored, as in CertificateSummary. */
  add(serial: Uint8Array, revocationTimeMs: number, reasonCode: number | undefined): void {
    let start = 0;
    while (start < serial.length - 1 && serial[start] === 0) start += 1;
    const stripped = serial.subarray(start);
    if (stripped.length > KEY_BYTES - 1) {
      this.#long.set(Buffer.from(stripped).toString('hex'), { revocationTime: new Date(revocationTimeMs), reason: reasonName(reasonCode) });
      return;
    }
    const record = Buffer.alloc(RECORD_BYTES);
    writeKey(record, stripped);
    record[KEY_BYTES] = reasonCode ?? NO_REASON;
    record.writeDoubleBE(revocationTimeMs, KEY_BYTES + 1);
    // latin1 maps each byte to one char code, so string order is byte order: a native sort instead of a comparator.
    this.#records.push(record.toString('latin1'));
  }

  build(): RevokedSerials {
    this.#records.sort();
    const packed = Buffer.from(this.#records.join(''), 'latin1');
    this.#records.length = 0;
    return new RevokedSerials(packed, this.#long);
  }
}

export class RevokedSerials {
  readonly #packed: Buffer;
  readonly #long: ReadonlyMap<string, Revocation>;

  constructor(packed: Buffer, long: ReadonlyMap<string, Revocation>) {
    this.#packed = packed;
    this.#long = long;
  }

  get size(): number {
    return this.#packed.length / RECORD_BYTES + this.#long.size;
  }

  /** Bytes held (the docs/performance.md figure). */
  get byteLength(): number {
    return this.#packed.length + this.#long.size * 64;
  }

  /** The entry for a serial (hex as in CertificateSummary.serialHex), or undefined when the CRL does not list it. */
  find(serialHex: string): Revocation | undefined {
    const serial = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
    let start = 0;
    while (start < serial.length - 1 && serial[start] === 0) start += 1;
    const stripped = serial.subarray(start);
    if (stripped.length > KEY_BYTES - 1) return this.#long.get(stripped.toString('hex'));
    const key = Buffer.alloc(KEY_BYTES);
    writeKey(key, stripped);
    let low = 0;
    let high = this.#packed.length / RECORD_BYTES - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const offset = middle * RECORD_BYTES;
      const order = this.#packed.compare(key, 0, KEY_BYTES, offset, offset + KEY_BYTES);
      if (order === 0) {
        const reason = this.#packed[offset + KEY_BYTES]!;
        return { revocationTime: new Date(this.#packed.readDoubleBE(offset + KEY_BYTES + 1)), reason: reason === NO_REASON ? undefined : reasonName(reason) };
      }
      if (order < 0) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }
}

function writeKey(into: Buffer, stripped: Uint8Array): void {
  into[0] = stripped.length;
  into.set(stripped, KEY_BYTES - stripped.length);
}

function reasonName(code: number | undefined): string | undefined {
  if (code === undefined) return undefined;
  const name = CRL_REASONS[code];
  if (name === undefined) throw new DerError(`CRLReason ${code} is not defined (RFC 5280 5.3.1)`);
  return name;
}
