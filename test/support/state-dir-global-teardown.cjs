// Jest global teardown: removes the run's state-dir root made by state-dir-global-setup.cjs.
const { rmSync } = require('node:fs');

module.exports = async function removeStateDirRoot() {
  const root = process.env.STAPLERD_TEST_STATE_ROOT;
  if (root) rmSync(root, { recursive: true, force: true });
};
