/** Tests are TypeScript ES modules, compiled by SWC; most run against the real local cloud. */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }] },
  testPathIgnorePatterns: ['/node_modules/', '/.serverless/', '/.esbuild/', '/.stryker-tmp/'],
  setupFiles: ['<rootDir>/test/support/log-level.ts'],
};

/**
 * The unit project (`npm run test:unit`): test files that start nothing, neither the local cloud nor an emulator nor
 * PostgreSQL, and need no `npm run package`. A new test file belongs to the cloud project until it is listed here.
 */
const unit = [
  'events/test/control.test.ts',
  'events/test/object-key.test.ts',
  'events/test/state-machine.test.ts',
  'local/test/batch-report.test.ts',
  'local/test/compose.test.ts',
  'local/test/conditions.test.ts',
  'local/test/doctor.test.ts',
  'local/test/event-shapes.test.ts',
  'local/test/event-selection.test.ts',
  'local/test/file-reports.test.ts',
  'local/test/failure-queues.test.ts',
  'local/test/failure-resolution.test.ts',
  'local/test/dynamodb-noise.test.ts',
  'local/test/filter.test.ts',
  'local/test/generate.test.ts',
  'local/test/generate-batch.test.ts',
  'local/test/iam.test.ts',
  'local/test/iam-conditions.test.ts',
  'local/test/mapping-config.test.ts',
  'local/test/log-format.test.ts',
  'local/test/printable.test.ts',
  'local/test/text-views.test.ts',
  'local/test/recorded.test.ts',
  'local/test/node-binary.test.ts',
  'local/test/providers.test.ts',
  'local/test/node-version.test.ts',
  'local/test/runtime.test.ts',
  'local/test/scheduled-rules.test.ts',
  'local/test/sns.test.ts',
  'local/test/scaffold-templates.test.ts',
  'local/test/sizes-parameters.test.ts',
  'local/test/stream-batch.test.ts',
  'local/test/stream-lanes.test.ts',
  'local/test/template.test.ts',
  'services/persistence/test/chunk-plan.test.ts',
  'shared/test/load/record-id-set.test.ts',
  'services/persistence/test/csv-validator.test.ts',
  'services/persistence/test/report-size.test.ts',
  'services/persistence/test/csv-validator.property.test.ts',
  'services/relationship/test/quality.test.ts',
  'services/relationship/test/volume.test.ts',
  'services/notifier/test/notifications.test.ts',
  'shared/test/delivery-schedule.test.ts',
  'shared/test/environment.test.ts',
  'shared/test/failure-retries.test.ts',
  'shared/test/metrics.test.ts',
  'shared/test/openlineage.test.ts',
  'shared/test/safe-error.test.ts',
  'services/privacy/test/redact.test.ts',
  'services/privacy/test/listing.test.ts',
  'test/cli-usage.test.ts',
  'test/doc-paths.test.ts',
  'test/import-rules.test.ts',
  'test/cli-logs.test.ts',
  'test/chaos/snapshot.test.ts',
];

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: unit.map((path) => `<rootDir>/${path}`) },
    { ...common, displayName: 'cloud', testMatch: ['**/test/**/*.test.ts'], testPathIgnorePatterns: [...common.testPathIgnorePatterns, ...unit.map((path) => `/${path.replaceAll('.', '\\.')}$`)] },
  ],
  // Tests spawn the compiled CLI (local/bin/dataharvest.mjs): compile it from the sources as they are.
  globalSetup: './local/bin/build.mjs',
  testTimeout: 120000,
  maxWorkers: 2,
  // The SDK's keep-alive sockets outlive a test file by design; the local cloud itself is stopped in afterAll.
  forceExit: true,
};
