// Where the staple of a certificate file is written, and whether that place under --out is safe to write.
import { lstatSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { StaplerdError } from '../errors/index.js';

export interface StaplePathOptions {
  /** The directory (or single file) the certificate was discovered under. */
  readonly certsRoot: string;
  /** When set, staples go to a mirror of the certs tree here instead of beside the certificates. */
  readonly outDir?: string;
}

const STAPLE_SUFFIX = '.ocsp';

/**
 * Default: beside the certificate as `<cert file name>.ocsp`, the name HAProxy loads automatically (HAProxy
 * configuration manual, bind option "crt": a file named like the certificate plus ".ocsp" is used as its staple). With outDir the tree under certsRoot is
 * mirrored, e.g. certsRoot/live/example.com/fullchain.pem -> outDir/live/example.com/fullchain.pem.ocsp.
 * Paths are used as discovered and never resolved through symlinks: certbot's live/ files are symlinks into
 * archive/, and the staple must follow the stable live/ name, not a versioned archive file.
 */
export function stapleOutputPath(certFile: string, options: StaplePathOptions): string {
  if (options.outDir === undefined) return `${certFile}${STAPLE_SUFFIX}`;
  return `${join(options.outDir, relativeToRoot(certFile, options.certsRoot))}${STAPLE_SUFFIX}`;
}

/** The certificate's path below certsRoot; its bare name when certsRoot is the certificate file itself. */
function relativeToRoot(certFile: string, certsRoot: string): string {
  const below = relative(certsRoot, certFile);
  if (below === '') return basename(certFile);
  // Refusing paths outside the root keeps every staple inside outDir (no `../` escapes).
  if (below === '..' || below.startsWith('../') || isAbsolute(below)) {
    throw new StaplerdError('CONFIG_INVALID', `certificate ${certFile} is not under the certificates root ${certsRoot}, so it cannot be mirrored into the output directory`, { file: certFile });
  }
  return below;
}

/** Per pass: directory under --out -> what lstat found there, so each directory is looked at once per pass. */
export type OutTreeCache = Map<string, EntryKind>;

type EntryKind = 'symlink' | 'missing' | 'other';

/**
 * The first symlink between `outDir` (exclusive: the operator may point it anywhere) and the staple's directory,
 * or undefined. The mirrored tree below --out is staplerd's own: a symlink planted there (out/live -> /etc) would
 * make every staple, snippet and temp file of that subtree land outside it, so such a staple is not written
 * (OUTPUT_PATH_UNSAFE). A directory that does not exist yet is safe: staplerd creates it as a real directory. The
 * staple's own name is not checked: writes rename over it, replacing a link instead of writing through it.
 */
export function findSymlinkUnderOut(stapleFile: string, outDir: string, cache: OutTreeCache = new Map()): string | undefined {
  const below = relative(outDir, dirname(stapleFile));
  if (below === '' || below === '..' || below.startsWith(`..${sep}`) || isAbsolute(below)) return undefined;
  let current = outDir;
  for (const part of below.split(sep)) {
    current = join(current, part);
    let kind = cache.get(current);
    if (kind === undefined) {
      kind = lstatKind(current);
      cache.set(current, kind);
    }
    if (kind === 'symlink') return current;
    if (kind === 'missing') return undefined; // created by the write as a real directory
  }
  return undefined;
}

function lstatKind(path: string): EntryKind {
  try {
    return lstatSync(path).isSymbolicLink() ? 'symlink' : 'other';
  } catch {
    return 'missing';
  }
}
