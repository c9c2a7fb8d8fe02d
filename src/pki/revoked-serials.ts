// The revoked serials of a validated CRL in one packed Buffer and a hash index: ~40 bytes per entry, no object each.
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

/** Collects entries while a CRL is walked into one growing Buffer of records: no object or string per entry. */
export class RevokedSerialsBuilder {
  #records = Buffer.alloc(RECORD_BYTES * 1024);
  #count = 0;
  readonly #long = new Map<string, Revocation>();

  /** `serial` is the INTEGER contents as encoded; leading zero octets are ignored, as in CertificateSummary. */
  add(serial: Uint8Array, revocationTimeMs: number, reasonCode: number | undefined): void {
    const stripped = stripLeadingZeros(serial);
    if (stripped.length > KEY_BYTES - 1) {
      this.#long.set(Buffer.from(stripped).toString('hex'), { revocationTime: new Date(revocationTimeMs), reason: reasonName(reasonCode) });
      return;
    }
    if ((this.#count + 1) * RECORD_BYTES > this.#records.length) {
      const grown = Buffer.alloc(this.#records.length * 2);
      this.#records.copy(grown);
      this.#records = grown;
    }
    const offset = this.#count * RECORD_BYTES;
    writeKey(this.#records, offset, stripped);
    this.#records[offset + KEY_BYTES] = reasonCode ?? NO_REASON;
    this.#records.writeDoubleBE(revocationTimeMs, offset + KEY_BYTES + 1);
    this.#count += 1;
  }

  /**
   * Packs the records into a Buffer of exactly their size and indexes them in an open-addressing hash table (a
   * Uint32Array of record numbers + 1, at most half full): building is linear, with no sort and no per-entry garbage.
   */
  build(): RevokedSerials {
    const packed = Buffer.alloc(this.#count * RECORD_BYTES);
    this.#records.copy(packed, 0, 0, packed.length);
    this.#records = Buffer.alloc(0);
    let slots = 16;
    while (slots < this.#count * 2) slots *= 2;
    const table = new Uint32Array(slots);
    const mask = slots - 1;
    for (let record = 0; record < this.#count; record += 1) {
      let slot = hashKey(packed, record * RECORD_BYTES) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = record + 1;
    }
    return new RevokedSerials(packed, table, this.#long);
  }
}

export class RevokedSerials {
  readonly #packed: Buffer;
  readonly #table: Uint32Array;
  readonly #long: ReadonlyMap<string, Revocation>;

  constructor(packed: Buffer, table: Uint32Array, long: ReadonlyMap<string, Revocation>) {
    this.#packed = packed;
    this.#table = table;
    this.#long = long;
  }

  get size(): number {
    return this.#packed.length / RECORD_BYTES + this.#long.size;
  }

  /** Bytes held (the docs/performance.md figure). */
  get byteLength(): number {
    return this.#packed.length + this.#table.byteLength + this.#long.size * 64;
  }

  /** The entry for a serial (hex as in CertificateSummary.serialHex), or undefined when the CRL does not list it. */
  find(serialHex: string): Revocation | undefined {
    const stripped = stripLeadingZeros(Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex'));
    if (stripped.length > KEY_BYTES - 1) return this.#long.get(Buffer.from(stripped).toString('hex'));
    const key = Buffer.alloc(KEY_BYTES);
    writeKey(key, 0, stripped);
    const mask = this.#table.length - 1;
    for (let slot = hashKey(key, 0) & mask; this.#table[slot] !== 0; slot = (slot + 1) & mask) {
      const offset = (this.#table[slot]! - 1) * RECORD_BYTES;
      if (this.#packed.compare(key, 0, KEY_BYTES, offset, offset + KEY_BYTES) !== 0) continue;
      const reason = this.#packed[offset + KEY_BYTES]!;
      return { revocationTime: new Date(this.#packed.readDoubleBE(offset + KEY_BYTES + 1)), reason: reason === NO_REASON ? undefined : reasonName(reason) };
    }
    return undefined;
  }
}

function stripLeadingZeros(serial: Uint8Array): Uint8Array {
  let start = 0;
  while (start < serial.length - 1 && serial[start] === 0) start += 1;
  return serial.subarray(start);
}

function writeKey(into: Buffer, offset: number, stripped: Uint8Array): void {
  into.fill(0, offset, offset + KEY_BYTES);
  into[offset] = stripped.length;
  into.set(stripped, offset + KEY_BYTES - stripped.length);
}

/** FNV-1a over a record's key: serials are random numbers, so any mixing hash spreads them. */
function hashKey(bytes: Uint8Array, offset: number): number {
  let hash = 0x811c9dc5;
  for (let i = offset; i < offset + KEY_BYTES; i += 1) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

function reasonName(code: number | undefined): string | undefined {
  if (code === undefined) return undefined;
  const name = CRL_REASONS[code];
  if (name === undefined) throw new DerError(`CRLReason ${code} is not defined (RFC 5280 5.3.1)`);
  return name;
}
