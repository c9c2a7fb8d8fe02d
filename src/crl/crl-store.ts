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
}

export interface KeptCrl {
  readonly der: Uint8Array;
  readonly meta: KeptCrlMeta;
}

export interface CrlStore {
  load(url: string): Promise<KeptCrl | undefined>;
  saveCrl(der: Uint8Array, meta: KeptCrlMeta): Promise<void>;
  saveMeta(meta: KeptCrlMeta): Promise<void>;
}

/** File names from the URL's hash: a URL is server-chosen text and never becomes a path component itself. */
function baseName(stateDir: string, url: string): string {
  return path.join(stateDir, 'crl', createHash('sha256').update(url).digest('hex'));
}

export function createCrlStore(stateDir: string, maxCrlBytes: number): CrlStore {
  return {
    async load(url) {
      const base = baseName(stateDir, url);
      const fields = await readJsonStateFile(`${base}.json`);
      if (!fields || fields.url !== url) return undefined;
      const checkedAt = readDate(fields.checkedAt);
      if (!checkedAt) throw new StaplerdError('STATE_CORRUPT', 'kept CRL metadata is corrupt', { file: `${base}.json` });
      const der = await readFileIfExists(`${base}.der`, maxCrlBytes);
      if (!der) return undefined;
      const meta: KeptCrlMeta = {
        url,
        checkedAt,
        failedAt: readDate(fields.failedAt),
        etag: typeof fields.etag === 'string' ? fields.etag : undefined,
        lastModified: typeof fields.lastModified === 'string' ? fields.lastModified : undefined,
      };
      return { der, meta };
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
  return { url: meta.url, checkedAt: meta.checkedAt.toISOString(), failedAt: meta.failedAt?.toISOString(), etag: meta.etag, lastModified: meta.lastModified };
}

function readDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
