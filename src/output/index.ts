// Public surface of the output module: atomic durable writes and staple path layout.
export {
  writeFileAtomic,
  writeFileIfChanged,
  removeFileDurable,
  cleanStaleTempFiles,
  readFileIfExists,
  type WriteOptions,
  type CleanOptions,
} from './atomic-write.js';
export { findSymlinkUnderOut, stapleOutputPath, type OutTreeCache, type StaplePathOptions } from './staple-paths.js';
