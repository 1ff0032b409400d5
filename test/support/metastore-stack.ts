import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ACCOUNT, REGION } from '../../local/src/cloud/account';
import { loadStack, type Physical, Resolver } from '../../local/src/cloud/cloudformation/template';
import type { Services } from '../../local/src/cloud/emulators/services';
import { createResource } from '../../local/src/cloud/providers/data-stores';
import { testAws } from './clients';

export interface StoreClients {
  dynamodb: DynamoDBClient;
  kinesis: KinesisClient;
}

export const storeClients = (services: Services): StoreClients => ({
  dynamodb: new DynamoDBClient({ ...testAws(services), endpoint: services.endpoints.dynamodb }),
  kinesis: new KinesisClient({ ...testAws(services), endpoint: services.endpoints.kinesis, requestHandler: new NodeHttpHandler() }),
});

/**
 * A packaged stack's resources of the given types, in that order, created on the emulators as the local cloud would;
 * `physical` collects them. The stack's keys are named first, as providers/kms.ts names them (these clients check
 * no key). Returns the physical names created.
 */
export async function createStackResources(serviceDir: string, types: string[], clients: StoreClients, physical: Map<string, Physical>): Promise<string[]> {
  const stack = loadStack(serviceDir);
  const resources = Object.entries(stack.template.Resources);
  for (const [id] of resources.filter(([, r]) => r.Type === 'AWS::KMS::Key')) {
    const keyId = `${stack.stackName}-${id}`;
    physical.set(id, { ref: keyId, attributes: { Arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`, KeyId: keyId } });
  }
  // Another stack's keys, imported by their exports' names: these clients check no key, so any ARN may name them.
  const keyImports = new Proxy({} as Record<string, string>, { get: (_, name) => (String(name).endsWith('-key-arn') ? `arn:aws:kms:${REGION}:${ACCOUNT}:key/${String(name)}` : undefined) });
  const resolver = new Resolver(stack, physical, keyImports);
  const created: string[] = [];
  for (const type of types) {
    for (const [id, r] of resources.filter(([, r]) => r.Type === type)) {
      const resource = await createResource(id, r, resolver, stack.stackName, clients as never);
      physical.set(id, resource);
      created.push(resource.ref);
    }
  }
  return created;
}

/**
 * The metastore stack's own tables and change feed on the emulators, from its packaged template as the local cloud
 * would create them (the stream first: the table names it). Returns the stack's stage.
 */
export async function createMetastoreStack(services: Services): Promise<{ stage: string }> {
  await createStackResources('metastore', ['AWS::Kinesis::Stream', 'AWS::DynamoDB::Table'], storeClients(services), new Map());
  return { stage: loadStack('metastore').stage };
}
