// A minimal DER tag-length-value walker for large structures (a CRL's revokedCertificates): offsets only, no objects.
import { DerError } from './der.js';

/** One encoded value inside a buffer: its tag octet and where its header, contents and end lie. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/**
 * Reads the value starting at `offset`, which must end by `limit`. DER only (X.690 10.1): definite lengths in the
 * fewest octets, single-octet tags; anything else is refused, so a hostile length cannot point outside the input.
 */
export function readTlv(bytes: Uint8Array, offset: number, limit: number, what: string): Tlv {
  if (offset + 2 > limit) throw new DerError(`${what} is truncated`);
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`${what} uses a multi-octet tag`);
  const first = bytes[offset + 1]!;
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (octets === 0 || octets > 4) throw new DerError(`${what} has an unsupported length encoding`);
    if (contentStart + octets > limit) throw new DerError(`${what} is truncated`);
    length = 0;
    for (let i = 0; i < octets; i += 1) length = length * 256 + bytes[contentStart + i]!;
    if (length < 0x80 || bytes[contentStart] === 0) throw new DerError(`${what} has a non-minimal length`);
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError(`${what} runs past its enclosing value`);
  return { tag, start: offset, contentStart, end };
}

/** Like readTlv, and the tag must be `tag`. */
export function expectTlv(bytes: Uint8Array, offset: number, limit: number, tag: number, what: string): Tlv {
  const tlv = readTlv(bytes, offset, limit, what);
  if (tlv.tag !== tag) throw new DerError(`${what} has tag 0x${tlv.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return tlv;
}

/** DER tags used by the walkers (X.690 8.1.2). */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  enumerated: 0x0a,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  context0Constructed: 0xa0,
} as const;
