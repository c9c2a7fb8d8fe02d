// The one interface the pass calls servers through: what to do before a staple goes, and what to tell after a pass.
import type { StaplerdConfig } from '../config/index.js';
import type { EventLogger } from '../log/index.js';
import type { ValidatedResponse } from '../pki/types.js';

/** One certificate file's staple at the end of a pass (the pass's StapleFileState, seen from a server). */
export interface ServedStapleFile {
  readonly certFile: string;
  readonly stapleFile: string;
  /** The valid staple on disk after the pass; undefined when there is none. */
  readonly staple?: ValidatedResponse;
  /** Written or removed in this pass. */
  readonly changed: boolean;
}

/** One certificate's result of a pass, as much of it as a server needs (the pass's TargetOutcome fits). */
export interface ServedCertificate {
  readonly kind: string;
  readonly stapleFiles: readonly string[];
  /** Per file, the staple left on disk; absent when the pass could not judge the staples (e.g. no issuer). */
  readonly files?: readonly ServedStapleFile[];
  /** Where the issuer came from ('file': inside the PEM). */
  readonly issuerSource?: string;
  readonly issuerPem?: string;
}

export interface ServerContext {
  readonly config: StaplerdConfig;
  readonly logger: EventLogger;
}

export interface AfterPassContext extends ServerContext {
  /** Records a file the server changed (an nginx snippet): the update hook hears of it with the staples. */
  readonly noteChanged: (path: string) => void;
}

/**
 * A server staplerd serves staples to beyond the staple file itself. Servers that only read the file (lighttpd,
 * Exim, pyOpenSSL) need none; every method is optional and does nothing unless the configuration asks for it.
 * One object lives as long as the process (daemon) or the pass (`once`), so it may remember things between passes.
 */
export interface StapleServer {
  readonly name: string;
  /** Before a staple file is removed (any moment of a pass): a server config must never name a missing file. */
  readonly beforeRemove?: (stapleFile: string, ctx: ServerContext) => Promise<void>;
  /** After a pass that wrote or removed staples: side files, pushes into running servers. Never throws. */
  readonly afterPass?: (certificates: readonly ServedCertificate[], ctx: AfterPassContext) => Promise<void>;
}
