// Jest runs the TypeScript sources directly through ts-jest in ESM mode (type-checking is `npm run typecheck`).
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, isolatedModules: true }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Every run and every test file gets its own STATE_DIRECTORY: nothing may reach /var/lib/staplerd (root's default).
  globalSetup: '<rootDir>/test/support/state-dir-global-setup.cjs',
  globalTeardown: '<rootDir>/test/support/state-dir-global-teardown.cjs',
  setupFilesAfterEnv: ['<rootDir>/test/support/state-dir-per-file.cjs'],
  testTimeout: 30000,
  // Two workers on CI's 2 cores: most suites wait on real servers, responders and child processes rather than compute,
  // and jest's default (cores - 1) ran 115 suites one after another.
  maxWorkers: 2,
  // Not a leak: told to end after their last file, both workers had no handle left but stdio/IPC pipes (and sockets
  // already closing) and ran their 'exit' event within 2 ms; the kernel then took 590 and 750 ms to tear down their 620
  // and 800 MB (RSS at the end of a full run; 150-320 ms for one folder's 240-380 MB; a plain `node` with a 230 MB heap
  // takes 250 ms here). Jest's default 500 ms grace called that "A worker process has failed to exit gracefully". A
  // handle a suite really leaks (a timer, socket, server, watcher or child process) still holds a worker past 2 s.
  workerGracefulExitTimeout: 2000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
