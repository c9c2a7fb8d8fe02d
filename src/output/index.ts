// Public surface of the output module: atomic durable writes and staple path layout.
export {
  writeFileAtomic,
  writeFileIfChanged,
  removeFileDurable,
  readFileIfExists,
  type WriteOptions,
} from './atomic-write.js';
export { findSymlinkUnderOut, stapleOutputPath, type OutTreeCache, type StaplePathOptions } from './staple-paths.js';
