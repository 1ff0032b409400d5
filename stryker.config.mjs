// Mutation testing of the pure modules (`npm run mutate`, see docs/testing.md): too slow for CI on 2 cores.
import { readFileSync } from 'node:fs';
import jestConfig from './jest.config.js';

/** The lines of `file` from the one starting with `from` to the one before `until` (end of file without it). */
function lines(file, from, until) {
  const text = readFileSync(file, 'utf8').split('\n');
  const start = text.findIndex((l) => l.startsWith(from));
  const end = until ? text.findIndex((l) => l.startsWith(until)) : text.length;
  if (start < 0 || end < 0) throw new Error(`stryker.config.mjs: ${file} has no line starting with "${start < 0 ? from : until}"`);
  return `${file}:${start + 1}-${end}`;
}

const unit = jestConfig.projects.find((p) => p.displayName === 'unit');
/** The unit tests that exercise the mutated modules; the others (and the CLI build of globalSetup) only slow each run. */
const tests = [
  'events/test/object-key.unit.test.ts',
  'events/test/state-machine.unit.test.ts',
  'local/test/filter.unit.test.ts',
  'local/test/iam.unit.test.ts',
  'local/test/stream-batch.unit.test.ts',
  // The example-based validator tests; its property tests (hundreds of generated files per run) would make each
  // validator mutant take half a minute on 2 cores.
  'shared/test/load/csv-validator.unit.test.ts',
];
for (const test of tests) if (!unit.testMatch.includes(`<rootDir>/${test}`)) throw new Error(`stryker.config.mjs: ${test} is not in jest.config.js's unit project`);

export default {
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: {
    projectType: 'custom',
    configFile: 'jest.stryker.config.js',
    config: { testMatch: tests.map((t) => `<rootDir>/${t}`) },
    // Each mutant runs only the test files that import its module, not all of them.
    enableFindRelatedTests: true,
  },
  coverageAnalysis: 'perTest',
  // Static mutants (module-level tables) would rerun every test for each one: 40 s apiece here.
  ignoreStatic: true,
  // Reruns test only the mutants whose code or covering tests changed (reports/stryker-incremental.json).
  incremental: true,
  concurrency: 1,
  mutate: [
    'shared/src/load/csv-validator.ts',
    'shared/src/load/values.ts',
    'events/src/object-key.ts',
    'events/src/state-machine.ts',
    'local/src/cloud/event-sources/filter.ts',
    // The pure helpers; the delivery loop around them is exercised against the emulators by the cloud tests.
    lines('local/src/cloud/event-sources/stream-batch.ts', 'export const MAX_PAYLOAD_BYTES', '/** Lambda backs off'),
    lines('local/src/cloud/event-sources/stream-batch.ts', 'export function firstFailure'),
    // Evaluation and request mapping; the proxy server after them is exercised by the cloud tests.
    lines('local/src/cloud/iam/proxy.ts', 'import', '/** The error each protocol answers with'),
    'local/src/cloud/iam/dynamodb.ts',
    'local/src/cloud/iam/s3.ts',
    'local/src/cloud/iam/request.ts',
  ],
  ignorePatterns: ['.serverless', '.esbuild', '.dataharvest', 'coverage', 'reports', 'local/dist'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  timeoutMS: 10000,
};
