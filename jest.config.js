/** Tests are TypeScript ES modules, compiled by SWC; most run against the real local cloud. */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' }, experimental: { keepImportAttributes: true } }, module: { type: 'es6' } }] },
  testPathIgnorePatterns: ['/node_modules/', '/.serverless/', '/.esbuild/', '/.stryker-tmp/'],
  setupFiles: ['<rootDir>/test/support/log-level.ts'],
};

/**
 * The unit project (`npm run test:unit`): test files named `*.unit.test.ts`, which start nothing, neither the local
 * cloud nor an emulator nor PostgreSQL, and need no `npm run package`. Every other test file is the cloud project's.
 */
const UNIT = '**/test/**/*.unit.test.ts';

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: [UNIT] },
    { ...common, displayName: 'cloud', testMatch: ['**/test/**/*.test.ts'], testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.unit\\.test\\.ts$'] },
  ],
  // Tests spawn the compiled CLI (local/bin/dataharvest.mjs), compiled from the sources as they are; the run's clouds
  // share one DynamoDB Local.
  globalSetup: './test/support/global-setup.mjs',
  globalTeardown: './test/support/global-teardown.mjs',
  testSequencer: './test/support/sequencer.mjs',
  testTimeout: 120000,
  maxWorkers: 2,
  // The SDK's keep-alive sockets outlive a test file by design; the local cloud itself is stopped in afterAll.
  forceExit: true,
};
