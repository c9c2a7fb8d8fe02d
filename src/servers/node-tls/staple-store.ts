// The staples in memory: re-scans the directories, reloads only files whose version changed, and indexes them by serial.
import { StaplerdError, toStaplerdError } from '../../errors/index.js';
import { scanStapleFiles, type ScanProblem } from './scan-staple-files.js';
import { loadStapleFile, type StapleCertId, type StapleFile } from './staple-file.js';

export interface StapleCandidate {
  readonly staple: StapleFile;
  readonly certId: StapleCertId;
}

export interface StapleStoreOptions {
  readonly roots: readonly string[];
  readonly recursive: boolean;
  readonly onError: (error: StaplerdError) => void;
  /**
   * Called after every scan with the directories walked, so the watcher can follow them. Returns true when it started
   * watching a directory this scan had already read: one more scan then catches a change made between the two.
   */
  readonly onDirectories?: (dirs: readonly string[]) => boolean;
}

export class StapleStore {
  readonly #options: StapleStoreOptions;
  #staples = new Map<string, StapleFile>();
  /** The file version each loaded object was read at (kept apart: an unchanged rewrite keeps its object). */
  #versions = new Map<string, string>();
  #bySerial = new Map<string, StapleCandidate[]>();
  /** Versions that failed to load, so a broken file is reported once, not on every re-scan. */
  #failedVersions = new Map<string, string>();
  /** Directory problems already reported, keyed by directory and errno code, until they clear. */
  #reportedProblems = new Set<string>();
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  constructor(options: StapleStoreOptions) {
    this.#options = options;
  }

  /** Number of staple files currently loaded (whether or not they validate). */
  get size(): number {
    return this.#staples.size;
  }

  /** Every SingleResponse, in any loaded file, for this serial (normalizeSerialHex form). */
  findBySerial(serialHex: string): readonly StapleCandidate[] {
    return this.#bySerial.get(serialHex) ?? [];
  }

  /**
   * Brings memory in line with the disk. Calls made while a scan runs share one follow-up scan, since the running
   * one may have read a directory before the change that triggered them. Never rejects.
   */
  rescan(): Promise<void> {
    if (this.#queued) return this.#queued;
    if (!this.#running) {
      this.#running = this.#scanOnce().finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    this.#queued = this.#running.then(() => {
      this.#queued = undefined;
      return this.rescan();
    });
    return this.#queued;
  }

  /** Resolves when no scan is running or queued (close() waits for it, so nothing touches the disk afterwards). */
  async settle(): Promise<void> {
    while (this.#running || this.#queued) await (this.#queued ?? this.#running);
  }

  async #scanOnce(): Promise<void> {
    try {
      const scan = await scanStapleFiles(this.#options.roots, this.#options.recursive);
      this.#reportProblems(scan.problems);
      const next = new Map<string, StapleFile>();
      const versions = new Map<string, string>();
      for (const [file, version] of scan.files) {
        const staple = await this.#loadVersion(file, version);
        if (!staple) continue;
        next.set(file, staple);
        versions.set(file, version);
      }
      this.#forgetFailuresNotIn(scan.files);
      // Swapped in one step: a handshake sees either the old index or the new one, never half of each.
      this.#staples = next;
      this.#versions = versions;
      this.#bySerial = indexBySerial(next.values());
      if (this.#options.onDirectories?.(scan.dirs)) void this.rescan();
    } catch (error) {
      this.#options.onError(toStaplerdError(error));
    }
  }

  /** The loaded object when the version is unchanged (keeping its cached verdicts), else a fresh load. */
  async #loadVersion(file: string, version: string): Promise<StapleFile | undefined> {
    const current = this.#staples.get(file);
    if (current && this.#versions.get(file) === version) return current;
    if (this.#failedVersions.get(file) === version) return undefined;
    try {
      const loaded = await loadStapleFile(file);
      this.#failedVersions.delete(file);
      // Same bytes under a new version (touched, or rewritten identically): keep the object and its verdicts.
      if (loaded && current && current.der.equals(loaded.der)) return current;
      return loaded;
    } catch (error) {
      this.#failedVersions.set(file, version);
      this.#options.onError(toStaplerdError(error, 'RESPONSE_MALFORMED', { file }));
      return undefined;
    }
  }

  #forgetFailuresNotIn(files: Map<string, string>): void {
    for (const file of this.#failedVersions.keys()) if (!files.has(file)) this.#failedVersions.delete(file);
  }

  #reportProblems(problems: readonly ScanProblem[]): void {
    const seen = new Set<string>();
    for (const { dir, error } of problems) {
      const key = `${dir}\0${error.code ?? ''}`;
      seen.add(key);
      if (this.#reportedProblems.has(key)) continue;
      this.#options.onError(new StaplerdError('DIRECTORY_UNREADABLE', `staple directory cannot be read: ${error.message}`, { file: dir }, { cause: error }));
    }
    this.#reportedProblems = seen;
  }
}

function indexBySerial(staples: Iterable<StapleFile>): Map<string, StapleCandidate[]> {
  const index = new Map<string, StapleCandidate[]>();
  for (const staple of staples) {
    for (const certId of staple.certIds) {
      const list = index.get(certId.serialHex) ?? [];
      list.push({ staple, certId });
      index.set(certId.serialHex, list);
    }
  }
  return index;
}
