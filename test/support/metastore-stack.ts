import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createResource } from '../../local/src/cloud/providers/data-stores';
import type { Services } from '../../local/src/cloud/emulators/services';
import { loadStack, Resolver } from '../../local/src/cloud/cloudformation/template';
import { testAws } from './clients';

/**
 * The metastore stack's own tables and change feed on the emulators, from its packaged template as the local cloud
 * would create them (the stream first: the table names it). Returns the stack's stage.
 */
export async function createMetastoreStack(services: Services): Promise<{ stage: string }> {
  const stack = loadStack('metastore');
  const dynamodb = new DynamoDBClient({ ...testAws(services), endpoint: services.endpoints.dynamodb });
  const kinesis = new KinesisClient({ ...testAws(services), endpoint: services.endpoints.kinesis, requestHandler: new NodeHttpHandler() });
  const physical = new Map();
  const resolver = new Resolver(stack, physical, {});
  for (const type of ['AWS::Kinesis::Stream', 'AWS::DynamoDB::Table']) {
    for (const [id, r] of Object.entries(stack.template.Resources).filter(([, r]) => r.Type === type))
      physical.set(id, await createResource(id, r, resolver, stack.stackName, { dynamodb, kinesis } as never));
  }
  return { stage: stack.stage };
}
