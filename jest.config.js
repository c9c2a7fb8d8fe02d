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
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
