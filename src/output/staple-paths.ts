// Where the staple of a certificate file is written.
import { basename, isAbsolute, join, relative } from 'node:path';
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
