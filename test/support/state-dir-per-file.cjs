// Jest per-file setup: STATE_DIRECTORY is a fresh dir for this test file (in-process daemons and passes resolve it),
// so backoff history never leaks between files and nothing reaches /var/lib/staplerd. Removed after the file.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const parent = process.env.STAPLERD_TEST_STATE_ROOT || tmpdir();
const stateDir = mkdtempSync(path.join(parent, 'file-'));
process.env.STATE_DIRECTORY = stateDir;

afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
});
