// Small strict helpers over asn1js: decode a complete DER value, walk children, read raw encodings and hex.
import * as asn1js from 'asn1js';

/** asn1js tag classes (X.690 8.1.2.2). */
export const TAG_CLASS = { universal: 1, application: 2, context: 3, private: 4 } as const;

/** Thrown by these helpers; callers translate it into the StaplerdError code of their input. */
export class DerError extends Error {
  override readonly name = 'DerError';
}

/**
 * Decodes exactly one ASN.1 value filling all of `bytes` (trailing bytes are an error, as DER has one encoding).
 * The tree's views point into `bytes` itself (no copy): callers must not modify `bytes` while they use the tree.
 */
export function decodeComplete(bytes: Uint8Array, what: string): asn1js.AsnType {
  if (bytes.length === 0) throw new DerError(`${what} is empty`);
  // parseEmbedded: false stops asn1js from also trying to decode the contents of every OCTET STRING and BIT STRING
  // as nested ASN.1 (extension values, keys, signatures, and the whole BasicOCSPResponse inside responseBytes):
  // the callers decode exactly the ones they read, once, with this same function.
  // copyInput: false saves a copy per decode and lets decoded fields be located in the caller's bytes
  // (src/pki/decoded-facts.ts keeps their offsets).
  const decoded = asn1js.fromBER(bytes, { parseEmbedded: false, copyInput: false });
  if (decoded.offset === -1 || decoded.result.error) {
    throw new DerError(`${what} is not valid ASN.1: ${decoded.result.error || 'decoding failed'}`);
  }
  if (decoded.offset !== bytes.length) {
    throw new DerError(`${what} has ${bytes.length - decoded.offset} trailing byte(s) after the DER value`);
  }
  return decoded.result;
}

/**
 * Refuses what DER forbids in the tags and lengths of a decoded tree (X.690 10.1): an indefinite length, a length in
 * more octets than needed (asn1js records those as warnings on its length block and decodes on) and a multi-octet tag
 * (none occurs in X.509). asn1js's own decoded fields are checked; no byte is read here.
 */
export function assertDerEncoding(block: asn1js.AsnType, what: string): void {
  if (block.idBlock.blockLength !== 1) throw new DerError(`${what} uses a multi-octet tag`);
  if (block.lenBlock.isIndefiniteForm) throw new DerError(`${what} uses an indefinite length`);
  if (block.lenBlock.warnings.length > 0) throw new DerError(`${what} has a non-minimal length (${block.lenBlock.warnings.join('; ')})`);
  const children = (block as { valueBlock?: { value?: unknown } }).valueBlock?.value;
  if (block.idBlock.isConstructed && Array.isArray(children)) for (const child of children as asn1js.AsnType[]) assertDerEncoding(child, what);
}

/** decodeComplete, and the whole tree DER-encoded (assertDerEncoding). */
export function decodeDer(bytes: Uint8Array, what: string): asn1js.AsnType {
  const block = decodeComplete(bytes, what);
  assertDerEncoding(block, what);
  return block;
}

/**
 * Decodes the one DER value starting at `offset`, which must end by `limit`, with asn1js (which decodes one element
 * from the start of its input and reports where it ends). Returns it and the offset after it: a long SEQUENCE OF can
 * be decoded one element at a time, each tree dropped before the next is decoded.
 */
export function decodeNext(bytes: Uint8Array, offset: number, limit: number, what: string): { block: asn1js.AsnType; end: number } {
  if (offset >= limit) throw new DerError(`${what} is missing`);
  const decoded = asn1js.fromBER(bytes.subarray(offset, limit), { parseEmbedded: false, copyInput: false });
  if (decoded.offset === -1 || decoded.result.error) {
    throw new DerError(`${what} is not valid ASN.1: ${decoded.result.error || 'decoding failed'}`);
  }
  assertDerEncoding(decoded.result, what);
  return { block: decoded.result, end: offset + decoded.offset };
}

/** Where one value lies in a buffer, from its header alone: tag fields, and the offsets of its contents and its end. */
export interface DerHeader {
  readonly tagClass: number;
  readonly tagNumber: number;
  readonly isConstructed: boolean;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/**
 * Decodes only the identifier and length octets of the value at `offset` (asn1js's own identification and length
 * blocks), leaving its contents undecoded: the caller can then decode a large SEQUENCE's elements one by one with
 * decodeNext. DER only, as assertDerEncoding; the value must end by `limit`.
 */
export function readDerHeader(bytes: Uint8Array, offset: number, limit: number, what: string): DerHeader {
  if (offset >= limit) throw new DerError(`${what} is missing`);
  // One block reused for every header (its fields are all rewritten by fromBER; errors and warnings are reset): a
  // CRL reads one header per entry, and asn1js's block constructors are what decoding time goes to.
  const header = HEADER_BLOCK;
  header.idBlock.error = '';
  header.lenBlock.error = '';
  header.idBlock.warnings.length = 0;
  header.lenBlock.warnings.length = 0;
  const lengthStart = header.idBlock.fromBER(bytes, offset, limit - offset);
  if (lengthStart === -1) throw new DerError(`${what} has a bad tag: ${header.idBlock.error}`);
  if (lengthStart >= limit) throw new DerError(`${what} is truncated`);
  const contentStart = header.lenBlock.fromBER(bytes, lengthStart, limit - lengthStart);
  if (contentStart === -1) throw new DerError(`${what} has a bad length: ${header.lenBlock.error}`);
  assertDerEncoding(header, what);
  const end = contentStart + header.lenBlock.length;
  if (end > limit) throw new DerError(`${what} runs past its enclosing value`);
  const { tagClass, tagNumber, isConstructed } = header.idBlock;
  return { tagClass, tagNumber, isConstructed, start: offset, contentStart, end };
}

const HEADER_BLOCK = new asn1js.BaseBlock();

/**
 * Decodes primitive values of one universal type into one reused asn1js block, given their header (readDerHeader):
 * the type's own asn1js value decoding, as asn1js.fromBER runs it after the header, without constructing the block
 * and its four parts again for each of the hundreds of thousands of values in a CRL. The block returned is
 * overwritten by the next decode: read it before.
 */
export class ReusedPrimitiveDecoder<T extends asn1js.BaseBlock<asn1js.ValueBlock>> {
  readonly #block: T;

  constructor(block: T) {
    this.#block = block;
  }

  /** The header is of this decoder's type, primitive. */
  accepts(header: DerHeader): boolean {
    const { idBlock } = this.#block;
    return header.tagClass === idBlock.tagClass && header.tagNumber === idBlock.tagNumber && !header.isConstructed;
  }

  decode(bytes: Uint8Array, header: DerHeader, what: string): T {
    const block = this.#block;
    if (!this.accepts(header)) {
      throw new DerError(`${what} is not a ${(block.constructor as { NAME?: string }).NAME ?? 'value of the expected type'}`);
    }
    const length = header.end - header.contentStart;
    block.error = '';
    block.warnings.length = 0;
    block.blockLength = 0;
    block.valueBlock.error = '';
    block.valueBlock.warnings.length = 0;
    block.lenBlock.isIndefiniteForm = false;
    block.lenBlock.length = length;
    if (block.fromBER(bytes, header.contentStart, length) === -1 || block.error || block.valueBlock.error) {
      throw new DerError(`${what} is not valid ASN.1: ${block.error || block.valueBlock.error || 'decoding failed'}`);
    }
    return block;
  }
}

/** A header of a universal SEQUENCE (X.690 8.9). */
export function isSequenceHeader(header: DerHeader): boolean {
  return header.tagClass === TAG_CLASS.universal && header.tagNumber === 16 && header.isConstructed;
}

/** The complete original encoding (tag, length, contents) of a decoded block: what signatures and hashes cover. */
export function readEncoding(block: asn1js.AsnType): Uint8Array {
  return block.valueBeforeDecodeView;
}

/** Children of a constructed block (SEQUENCE, SET or a constructed tagged value). */
export function readChildren(block: asn1js.AsnType, what: string): asn1js.AsnType[] {
  const value = (block as { valueBlock?: { value?: unknown } }).valueBlock?.value;
  if (!block.idBlock.isConstructed || !Array.isArray(value)) throw new DerError(`${what} is not a constructed value`);
  return value as asn1js.AsnType[];
}

export function isContextTag(block: asn1js.AsnType | undefined, tagNumber: number): block is asn1js.AsnType {
  return block !== undefined && block.idBlock.tagClass === TAG_CLASS.context && block.idBlock.tagNumber === tagNumber;
}

export function expectSequence(block: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (!block || !(block instanceof asn1js.Sequence)) throw new DerError(`${what} is not a SEQUENCE`);
  return readChildren(block, what);
}

/** Contents octets of a primitive block whatever its tag (OCTET STRING, INTEGER, IMPLICIT-tagged values). */
export function readPrimitiveContents(block: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!block || block.idBlock.isConstructed) throw new DerError(`${what} is not a primitive value`);
  return (block as unknown as { valueBlock: { valueHexView: Uint8Array } }).valueBlock.valueHexView;
}

export function expectOctetString(block: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!block || !(block instanceof asn1js.OctetString) || block.idBlock.isConstructed) throw new DerError(`${what} is not an OCTET STRING`);
  return block.valueBlock.valueHexView;
}

export function expectInteger(block: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!block || !(block instanceof asn1js.Integer)) throw new DerError(`${what} is not an INTEGER`);
  return block.valueBlock.valueHexView;
}

export function expectOid(block: asn1js.AsnType | undefined, what: string): string {
  if (!block || !(block instanceof asn1js.ObjectIdentifier)) throw new DerError(`${what} is not an OBJECT IDENTIFIER`);
  return block.valueBlock.toString();
}

/** BIT STRING contents without the leading unused-bits octet (X.690 8.6.2). */
export function expectBitString(block: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!block || !(block instanceof asn1js.BitString) || block.idBlock.isConstructed) throw new DerError(`${what} is not a BIT STRING`);
  return block.valueBlock.valueHexView;
}

/** RFC 5280 4.1.2.5.2 / RFC 6960 4.2.1: OCSP times are GeneralizedTime. */
export function expectGeneralizedTime(block: asn1js.AsnType | undefined, what: string): Date {
  if (!block || !(block instanceof asn1js.GeneralizedTime)) throw new DerError(`${what} is not a GeneralizedTime`);
  const date = block.toDate();
  if (Number.isNaN(date.getTime())) throw new DerError(`${what} is not a valid time`);
  return date;
}

/** RFC 5280 4.1.2.5: Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }, as pkijs's Time reads it. */
export function expectTime(block: asn1js.AsnType | undefined, what: string): Date {
  // GeneralizedTime extends UTCTime in asn1js: one check covers both.
  if (!block || !(block instanceof asn1js.UTCTime)) throw new DerError(`${what} is neither UTCTime nor GeneralizedTime`);
  const date = block.toDate();
  if (Number.isNaN(date.getTime())) throw new DerError(`${what} is not a valid time`);
  return date;
}

/** The single value inside an EXPLICIT tag. */
export function unwrapExplicit(block: asn1js.AsnType, what: string): asn1js.AsnType {
  const children = readChildren(block, what);
  if (children.length !== 1) throw new DerError(`${what} must wrap exactly one value`);
  return children[0]!;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Hex of an INTEGER's contents with leading zero octets stripped, "00" for zero (the CertificateSummary form). */
export function serialToHex(contents: Uint8Array): string {
  let start = 0;
  while (start < contents.length - 1 && contents[start] === 0) start += 1;
  const hex = toHex(contents.subarray(start));
  return hex === '' ? '00' : hex;
}

/** Comparable form of a serial in hex: lowercase, no leading zeros, so "00AB", "0ab" and "ab" are equal. */
export function normalizeSerialHex(hex: string): string {
  const trimmed = hex.trim().toLowerCase().replace(/^0x/, '').replace(/^0+/, '');
  return trimmed === '' ? '0' : trimmed;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
