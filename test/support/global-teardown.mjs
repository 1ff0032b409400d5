/** After the last test file: the run's DynamoDB Local (global-setup.mjs) stops. */
export default async function globalTeardown() {
  await globalThis[Symbol.for('dataharvest.sharedDynamoDb')]?.stop();
}
