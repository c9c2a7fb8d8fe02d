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
  // Not a leak: a worker is told to end only after its last file, and then had no handle left but its stdio and IPC
  // pipes and ran its 'exit' event within 2 ms; the kernel then needs 150-320 ms to tear the process down (measured for
  // e2e workers of 240 and 376 MB RSS; a plain `node` with a 230 MB heap takes 250 ms here), more on two busy shared
  // cores. Jest's default 500 ms grace counted that as "A worker process has failed to exit gracefully". A handle a
  // suite really leaks (a timer, socket, server, watcher or child process) still keeps its worker past 2 s and shows.
  workerGracefulExitTimeout: 2000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
