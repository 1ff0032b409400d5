import { tsImport } from 'tsx/esm/api';
import build from '../../local/bin/build.mjs';

/** The local cloud's modules, in TypeScript: jest transforms test files, not its own global hooks. */
const source = (path) => tsImport(`../../local/src/cloud/${path}`, import.meta.url);

/**
 * Before any test file: the CLI that tests spawn is compiled from the sources as they are, and one DynamoDB Local is
 * started for every ephemeral cloud of the run, each in a database of its own (emulators/dynamodb.ts): a JVM's
 * start-up (about 1.8 s of CPU) was paid by each of them. The workers inherit its port; jest's own process keeps
 * it for global-teardown.mjs.
 */
export default async function globalSetup() {
  await build();
  const [{ launchDynamoDbLocal }, { freePort }, { SHARED_DYNAMODB_PORT }] = await Promise.all([source('emulators/dynamodb.ts'), source('emulators/ports.ts'), source('emulators/services.ts')]);
  const port = await freePort();
  const dynamodb = launchDynamoDbLocal(port, { sharedDb: false, log: () => undefined });
  await dynamodb.ready;
  process.env[SHARED_DYNAMODB_PORT] = String(port);
  globalThis[Symbol.for('dataharvest.sharedDynamoDb')] = dynamodb;
}
