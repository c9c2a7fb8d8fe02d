// Binary rows with one shared string table, for state files read whole at start-up (decoded-facts-file.ts): numbers
// at fixed widths, little-endian, strings once each as UTF-16 code units (any JS string comes back exactly, lone
// surrogates included, which UTF-8 would not keep), and reading that throws on anything the writer never writes.
import { createHash } from 'node:crypto';
import type { ByteRange } from '../pki/decoded-facts.js';

/** A row's key: a SHA-256. */
export const KEY_BYTES = 32;
/** The SHA-256 of everything before it ends the file. */
const CHECKSUM_BYTES = 32;

/** How reading refuses what the writer never writes: an Error saying what is wrong (the caller names the file). */
export function fail(reason: string): never {
  throw new Error(reason);
}

/** The bytes finish() wrote before its checksum, once the checksum holds; `magic` must start them. */
export function checkedBody(file: Buffer, magic: Buffer): Buffer {
  if (file.length < magic.length + CHECKSUM_BYTES) fail('truncated');
  const body = file.subarray(0, file.length - CHECKSUM_BYTES);
  if (!createHash('sha256').update(body).digest().equals(file.subarray(body.length))) fail('checksum mismatch');
  return body;
}

/**
 * Appends rows to growing chunks; strings go to the table once (issuer names, URLs, OIDs and statuses repeat for
 * every certificate of a CA) and rows hold their index. The table is complete only once every row is written, so
 * finish() puts it in front of them.
 */
export class RowWriter {
  readonly #strings: string[] = [];
  readonly #index = new Map<string, number>();
  #rows = Buffer.allocUnsafe(64 * 1024);
  #length = 0;

  text(value: string): void {
    const bytes = Buffer.from(value, 'utf16le');
    this.u32(bytes.length);
    this.#reserve(bytes.length);
    this.#length += bytes.copy(this.#rows, this.#length);
  }

  /** Starts a row that RowReader.skipRow can step over without reading it: a length, patched by endRow. */
  beginRow(): number {
    this.u32(0);
    return this.#length;
  }

  endRow(start: number): void {
    this.#rows.writeUInt32LE(this.#length - start, start - 4);
  }

  u8(value: number): void {
    this.#reserve(1);
    this.#length = this.#rows.writeUInt8(value, this.#length);
  }

  u32(value: number): void {
    this.#reserve(4);
    this.#length = this.#rows.writeUInt32LE(value, this.#length);
  }

  f64(value: number): void {
    this.#reserve(8);
    this.#length = this.#rows.writeDoubleLE(value, this.#length);
  }

  key(hex: string): void {
    this.#reserve(KEY_BYTES);
    if (this.#rows.write(hex, this.#length, KEY_BYTES, 'hex') !== KEY_BYTES) throw new Error(`not a SHA-256 key: ${hex}`);
    this.#length += KEY_BYTES;
  }

  ref(value: string): void {
    let at = this.#index.get(value);
    if (at === undefined) {
      at = this.#strings.push(value) - 1;
      this.#index.set(value, at);
    }
    this.u32(at);
  }

  refs(values: readonly string[]): void {
    this.u32(values.length);
    for (const value of values) this.ref(value);
  }

  range(range: ByteRange): void {
    this.u32(range[0]);
    this.u32(range[1]);
  }

  u32s(values: readonly number[]): void {
    this.u32(values.length);
    for (const value of values) this.u32(value);
  }

  /** `magic`, the string table, the rows, then the SHA-256 of all of that. */
  finish(magic: Buffer): Buffer {
    const rows = this.#rows.subarray(0, this.#length);
    this.#rows = Buffer.allocUnsafe(64 * 1024);
    this.#length = 0;
    this.u32(this.#strings.length);
    for (const value of this.#strings) this.text(value);
    const body = Buffer.concat([magic, this.#rows.subarray(0, this.#length), rows]);
    return Buffer.concat([body, createHash('sha256').update(body).digest()]);
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#rows.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#rows.length * 2, this.#length + bytes));
    this.#rows.copy(grown, 0, 0, this.#length);
    this.#rows = grown;
  }
}

/** Reads what RowWriter wrote; throws 'truncated' past the end and 'bad ...' for values it never writes. */
export class RowReader {
  readonly #bytes: Buffer;
  readonly #strings: string[];
  #at: number;
  /** Reads stop here: the end of the bytes, or of the row being read (seek), so a row never reads into the next. */
  #end: number;

  constructor(bytes: Buffer, start: number) {
    this.#bytes = bytes;
    this.#at = start;
    this.#end = bytes.length;
    const count = this.u32();
    this.#strings = [];
    while (this.#strings.length < count) this.#strings.push(this.#text());
  }

  atEnd(): boolean {
    return this.#at === this.#bytes.length;
  }

  get position(): number {
    return this.#at;
  }

  /** Moves to a position an earlier skipRow returned, to read up to `end` (a row's end; default: all the bytes). */
  seek(at: number, end = this.#bytes.length): void {
    if (!(at >= 0 && at <= end && end <= this.#bytes.length)) fail('bad position');
    this.#at = at;
    this.#end = end;
  }

  /** Steps over a row written between beginRow and endRow; returns where its contents start and end. */
  skipRow(): { start: number; end: number } {
    const length = this.u32();
    const start = this.#advance(length);
    return { start, end: start + length };
  }

  /** A string written with RowWriter.text (not through the table). */
  text(): string {
    return this.#text();
  }

  u32(): number {
    const at = this.#advance(4);
    return this.#bytes.readUInt32LE(at);
  }

  f64(): number {
    const at = this.#advance(8);
    return this.#bytes.readDoubleLE(at);
  }

  /** A flags byte; bits outside `known` mean a file this module did not write. */
  flags(known: number): number {
    const value = this.#bytes[this.#advance(1)]!;
    if ((value & ~known) !== 0) fail('bad flags');
    return value;
  }

  key(): string {
    const at = this.#advance(KEY_BYTES);
    return this.#bytes.toString('hex', at, at + KEY_BYTES);
  }

  ref(): string {
    const value = this.#strings[this.u32()];
    if (value === undefined) fail('bad string reference');
    return value;
  }

  refs(): string[] {
    const values: string[] = [];
    for (let count = this.u32(); values.length < count;) values.push(this.ref());
    return values;
  }

  range(): ByteRange {
    return [this.u32(), this.u32()];
  }

  u32s(): number[] {
    const values: number[] = [];
    for (let count = this.u32(); values.length < count;) values.push(this.u32());
    return values;
  }

  ranges(): ByteRange[] {
    const flat = this.u32s();
    if (flat.length % 2 !== 0) fail('bad range list');
    const ranges: ByteRange[] = [];
    for (let at = 0; at < flat.length; at += 2) ranges.push([flat[at]!, flat[at + 1]!]);
    return ranges;
  }

  #text(): string {
    const length = this.u32();
    if (length % 2 !== 0) fail('bad string');
    const at = this.#advance(length);
    return this.#bytes.toString('utf16le', at, at + length);
  }

  #advance(bytes: number): number {
    const at = this.#at;
    if (at + bytes > this.#end) fail('truncated');
    this.#at = at + bytes;
    return at;
  }
}
