// Just enough DER (X.690) to walk and build the few fixed shapes the benchmark needs without pkijs in the hot loops.

export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the content. */
  readonly end: number;
}

/** Reads one TLV with a single-byte tag (every tag in certificates and OCSP messages is below 31, X.690 8.1.2.2). */
export function readTlv(bytes: Uint8Array, offset: number): Tlv {
  if (offset + 2 > bytes.length) throw new RangeError(`DER: truncated at ${offset}`);
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new RangeError(`DER: multi-byte tag at ${offset}`);
  const lengthByte = bytes[offset + 1]!;
  let contentStart = offset + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    // X.690 8.1.3.5: long form, the low bits count the length octets that follow.
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 4) throw new RangeError(`DER: unsupported length at ${offset}`);
    length = 0;
    for (let index = 0; index < count; index += 1) length = length * 256 + bytes[offset + 2 + index]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > bytes.length) throw new RangeError(`DER: value at ${offset} runs past the end`);
  return { tag, start: offset, contentStart, end };
}

/** The TLVs directly inside a constructed value. */
export function readChildren(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const children: Tlv[] = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const child = readTlv(bytes, offset);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** The n-th child, or a RangeError naming what was expected (so a malformed request fails loudly, not as undefined). */
export function readChild(bytes: Uint8Array, parent: Tlv, index: number, what: string): Tlv {
  const child = readChildren(bytes, parent)[index];
  if (!child) throw new RangeError(`DER: missing ${what}`);
  return child;
}

export function sliceTlv(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.start, tlv.end);
}

export function sliceContent(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.contentStart, tlv.end);
}

/** X.690 8.1.3: short form below 128, else 0x80 | count followed by big-endian length octets. */
export function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

export function encodeTlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const content = Buffer.concat(contents);
  return Buffer.concat([Uint8Array.of(tag), encodeLength(content.length), content]);
}

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  enumerated: 0x0a,
  generalizedTime: 0x18,
  sequence: 0x30,
} as const;

/** Context-specific tag [n]: constructed (EXPLICIT wrappers) or primitive (IMPLICIT NULL of CertStatus good). */
export function contextTag(number: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | number;
}

/** GeneralizedTime "YYYYMMDDHHMMSSZ": UTC, whole seconds (RFC 5280 4.1.2.5.2, which OCSP clients accept). */
export function encodeGeneralizedTime(at: Date): Uint8Array {
  const text = at.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return encodeTlv(TAG.generalizedTime, Buffer.from(text, 'ascii'));
}
