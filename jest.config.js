/** Tests are TypeScript ES modules, compiled by SWC; they run against the real local cloud. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }] },
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.serverless/', '/.esbuild/'],
  testTimeout: 120000,
  maxWorkers: 2,
  // The SDK's keep-alive sockets outlive a test file by design; the local cloud itself is stopped in afterAll.
  forceExit: true,
};
