// Jest global setup: one temp root for the whole run, and STATE_DIRECTORY pointing into it before any worker starts.
//
// Why: as root, staplerd's default state dir is /var/lib/staplerd (src/state/state-dir.ts). A test that forgets
// --state-dir (or builds a daemon in-process without stateDir) once wrote history and a status snapshot with the
// jest pid there. With STATE_DIRECTORY set here, workers and every child they spawn inherit it, so no forgotten
// invocation can reach the machine's real state dir. state-dir-per-file.cjs then gives each test file its own dir.
const { mkdtempSync, mkdirSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

module.exports = async function setUpStateDirRoot() {
  const root = mkdtempSync(path.join(tmpdir(), 'staplerd-jest-state-'));
  const fallback = path.join(root, 'unassigned');
  mkdirSync(fallback);
  process.env.STAPLERD_TEST_STATE_ROOT = root;
  // Overrides any STATE_DIRECTORY of the shell on purpose: tests never share state with a real staplerd.
  process.env.STATE_DIRECTORY = fallback;
};
