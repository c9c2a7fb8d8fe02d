// Reads certificate files as servers hold them (PEM with key, chain, DH params in any order, or one DER certificate) and writes PEM.
import { StaplerdError } from '../errors/index.js';
import { DerError, decodeComplete } from './der.js';

export interface PemContents {
  /** DER of each CERTIFICATE block, in file order (leaf first, as nginx and HAProxy expect). */
  certificates: Uint8Array[];
  /** A "... PRIVATE KEY" block was present (HAProxy combined file); its contents were never decoded. */
  hasPrivateKey: boolean;
  /** Labels of the other blocks (e.g. "DH PARAMETERS", "X509 CRL"), in file order. */
  otherLabels: string[];
}

// RFC 7468 2: "-----BEGIN label-----" ... "-----END label-----"; labels are printable ASCII without "-".
const BEGIN_LINE = /-----BEGIN ([\x20-\x2c\x2e-\x7e]*)-----/g;
const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);

export function isCertificateLabel(label: string): boolean {
  return CERTIFICATE_LABELS.has(label);
}
// RFC 7468 3 allows whitespace anywhere in the base64 text; headers ("Proc-Type:") only occur in legacy key blocks.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** PEM text (any number of blocks, any order) or a single DER certificate; each certificate is checked to be complete DER. */
export function readCertificateFile(bytes: Uint8Array, file?: string): PemContents {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (text.includes('-----BEGIN ')) return readPemBlocks(text, file);
  return { certificates: [readDerCertificate(bytes, file, true)], hasPrivateKey: false, otherLabels: [] };
}

export function encodePem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}-----END ${label}-----\n`;
}

/** One armoured block; `decode` base64-decodes on demand so key blocks can be skipped without decoding. */
export interface PemBlock {
  readonly label: string;
  /** The text between the BEGIN and END lines, as written (equal text means equal bytes). */
  readonly body: string;
  decode(): Uint8Array;
}

/** Splits PEM text into blocks (RFC 7468 2), failing on a BEGIN line without its END line (a truncated file). */
export function listPemBlocks(text: string, file?: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BEGIN_LINE)) {
    const label = match[1]!;
    const bodyStart = match.index + match[0].length;
    const bodyEnd = text.indexOf(`-----END ${label}-----`, bodyStart);
    if (bodyEnd === -1 || text.lastIndexOf('-----BEGIN ', bodyEnd) > match.index) {
      throw parseError(file, `PEM block "${label}" has no matching END line`);
    }
    blocks.push({
      label,
      get body() {
        return text.slice(bodyStart, bodyEnd);
      },
      decode: () => decodeBase64Body(text.slice(bodyStart, bodyEnd), label, file),
    });
  }
  return blocks;
}

function readPemBlocks(text: string, file: string | undefined): PemContents {
  const contents: PemContents = { certificates: [], hasPrivateKey: false, otherLabels: [] };
  for (const block of listPemBlocks(text, file)) {
    if (block.label.includes('PRIVATE KEY')) {
      // Never decode key material: note its presence and move on (HAProxy combined key+cert files).
      contents.hasPrivateKey = true;
    } else if (CERTIFICATE_LABELS.has(block.label)) {
      const der = block.decode();
      checkCompleteDer(der, file);
      contents.certificates.push(der);
    } else {
      contents.otherLabels.push(block.label);
    }
  }
  return contents;
}

function decodeBase64Body(body: string, label: string, file: string | undefined): Uint8Array {
  const base64 = body.replace(/\s+/g, '');
  if (base64 === '') throw parseError(file, `${label} block is not valid base64`);
  const decoded = Buffer.from(base64, 'base64');
  // Text that re-encodes to itself is canonical base64, which the pattern accepts: only other text needs the (slower) pattern.
  if (decoded.toString('base64') !== base64 && !STRICT_BASE64.test(base64)) throw parseError(file, `${label} block is not valid base64`);
  // A copy: small Buffers share 8 KiB pool slabs, and a kept certificate must not pin one.
  return new Uint8Array(decoded);
}

/** A certificate of a file: its PEM text when it has some, and its DER on demand (a fresh copy each call). */
export interface CertificateBlock {
  /** The base64 text between BEGIN and END as written; undefined for a DER file. */
  readonly pemBody?: string;
  decode(): Uint8Array;
}

/**
 * The certificates of a file in file order, without decoding them: a caller can recognise a certificate it has
 * already parsed by its text and skip the decode. Same rules as readCertificateFile (key blocks never decoded), but
 * the DER is not checked here: the caller parses it, and Certificate.fromDer refuses incomplete DER just the same.
 */
export function listCertificateBlocks(bytes: Uint8Array, file?: string): CertificateBlock[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (!text.includes('-----BEGIN ')) return [{ decode: () => readDerCertificate(bytes, file, false) }];
  return listPemBlocks(text, file)
    .filter((block) => CERTIFICATE_LABELS.has(block.label))
    .map((block) => ({ pemBody: block.body, decode: () => block.decode() }));
}

/** A file without PEM armour must be exactly one DER SEQUENCE (a certificate); anything else is garbage. */
function readDerCertificate(bytes: Uint8Array, file: string | undefined, checkDer: boolean): Uint8Array {
  if (bytes[0] !== 0x30) throw parseError(file, 'neither PEM nor a DER certificate');
  const der = new Uint8Array(bytes);
  if (checkDer) checkCompleteDer(der, file);
  return der;
}

function checkCompleteDer(der: Uint8Array, file: string | undefined): void {
  try {
    decodeComplete(der, 'certificate');
  } catch (error) {
    if (error instanceof DerError) throw parseError(file, error.message);
    throw error;
  }
}

function parseError(file: string | undefined, reason: string): StaplerdError {
  return new StaplerdError('CERT_PARSE_FAILED', `${file ?? 'certificate file'}: ${reason}`, { file });
}
