// The last valid CRL per distribution point in the state dir (<state dir>/crl/<sha256 of URL>.der, and .json beside
// it: validators, CRL number, times), so a restart or a `once` run uses it instead of downloading it again.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { StaplerdError } from '../errors/index.js';
import { readFileIfExists, writeFileAtomic } from '../output/atomic-write.js';
import { readJsonStateFile, writeJsonStateFile } from '../state/json-state-file.js';
import type { CrlValidators } from './download-crl.js';

export interface KeptCrlMeta extends CrlValidators {
  readonly url: string;
  /** When the server last confirmed the kept CRL (download or 304). */
  readonly checkedAt: Date;
  /** The last failed attempt after checkedAt, if any. */
  readonly failedAt?: Date;
  /**
   * The highest CRL number ever accepted for this point (RFC 5280 5.2.3: it only grows). Kept apart from the DER so a
   * damaged or deleted kept CRL does not forget it: a replayed older CRL is still CRL_OLDER.
   */
  readonly crlNumberFloorHex?: string;
}

export interface CrlStore {
  /** The metadata alone: it outlives a kept DER that is gone or fails validation (its CRL number floor). */
  loadMeta(url: string): Promise<KeptCrlMeta | undefined>;
  /** The kept DER; undefined when there is none. */
  loadDer(url: string): Promise<Uint8Array | undefined>;
  saveCrl(der: Uint8Array, meta: KeptCrlMeta): Promise<void>;
  saveMeta(meta: KeptCrlMeta): Promise<void>;
}

/** File names from the URL's hash: a URL is server-chosen text and never becomes a path component itself. */
function baseName(stateDir: string, url: string): string {
  return path.join(stateDir, 'crl', createHash('sha256').update(url).digest('hex'));
}

export function createCrlStore(stateDir: string, maxCrlBytes: number): CrlStore {
  return {
    async loadMeta(url) {
      const file = `${baseName(stateDir, url)}.json`;
      const fields = await readJsonStateFile(file);
      if (!fields || fields.url !== url) return undefined;
      const checkedAt = readDate(fields.checkedAt);
      const floor = fields.crlNumberFloorHex;
      if (!checkedAt || (floor !== undefined && !isCrlNumberHex(floor))) throw new StaplerdError('STATE_CORRUPT', 'kept CRL metadata is corrupt', { file });
      return {
        url,
        checkedAt,
        failedAt: readDate(fields.failedAt),
        etag: typeof fields.etag === 'string' ? fields.etag : undefined,
        lastModified: typeof fields.lastModified === 'string' ? fields.lastModified : undefined,
        crlNumberFloorHex: floor,
      };
    },
    loadDer(url) {
      return readFileIfExists(`${baseName(stateDir, url)}.der`, maxCrlBytes);
    },
    async saveCrl(der, meta) {
      const base = baseName(stateDir, meta.url);
      // DER first: metadata naming validators of a CRL that is not on disk would make the server answer 304 for nothing.
      await writeFileAtomic(`${base}.der`, der, { mode: 0o644 });
      await writeJsonStateFile(`${base}.json`, serialize(meta));
    },
    async saveMeta(meta) {
      await writeJsonStateFile(`${baseName(stateDir, meta.url)}.json`, serialize(meta));
    },
  };
}

function serialize(meta: KeptCrlMeta): Record<string, unknown> {
  return {
    url: meta.url, checkedAt: meta.checkedAt.toISOString(), failedAt: meta.failedAt?.toISOString(), etag: meta.etag, lastModified: meta.lastModified,
    crlNumberFloorHex: meta.crlNumberFloorHex,
  };
}

/**
 * A CRL number as pki/ writes it (serialToHex: whole octets, no leading zero octet) of at most 20 octets (RFC 5280
 * 5.2.3) plus a sign octet: a hostile floor of any other shape would otherwise refuse every CRL to come.
 */
function isCrlNumberHex(value: unknown): value is string {
  return typeof value === 'string' && /^(00|(?!00)(?:[0-9a-f]{2}){1,21})$/.test(value);
}

function readDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
