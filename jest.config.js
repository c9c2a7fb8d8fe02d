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
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
