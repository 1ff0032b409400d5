import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, ResourceInUseException as StreamInUse, type KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { arn, type Physical, type Resolver, type Resource } from './template';

export interface Clients { dynamodb: DynamoDBClient; kinesis: KinesisClient; s3: S3Client; sqs: SQSClient }

type Props = Record<string, unknown>;

/** The data resources the local cloud creates; IAM, logs, permissions and versions have no local meaning. */
const CREATED = new Set(['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::Kinesis::Stream', 'AWS::S3::Bucket']);

/**
 * Creates one data resource the way CloudFormation would, idempotently (a persistent data dir already has it),
 * and returns what Ref and Fn::GetAtt answer for it. Resource types the local cloud has no use for return undefined.
 */
export async function createResource(logicalId: string, resource: Resource, resolver: Resolver, stackName: string, clients: Clients): Promise<Physical | undefined> {
  if (!CREATED.has(resource.Type)) return undefined;
  const props = (resolver.resolve(resource.Properties ?? {}) as Props);
  const fallbackName = `${stackName}-${logicalId}`;
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table': return createTable(props, String(props.TableName ?? fallbackName), clients.dynamodb);
    case 'AWS::SQS::Queue': {
      const name = String(props.QueueName ?? fallbackName);
      const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name }));
      return { ref: QueueUrl!, attributes: { Arn: arn.queue(name), QueueUrl: QueueUrl!, QueueName: name } };
    }
    case 'AWS::Kinesis::Stream': {
      const name = String(props.Name ?? fallbackName);
      await clients.kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: Number(props.ShardCount ?? 1) })).catch((e: unknown) => {
        if (!(e instanceof StreamInUse)) throw e;
      });
      await waitFor(async () => (await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE');
      return { ref: name, attributes: { Arn: arn.stream(name) } };
    }
    case 'AWS::S3::Bucket': {
      const name = String(props.BucketName ?? fallbackName.toLowerCase());
      await clients.s3.send(new CreateBucketCommand({ Bucket: name })).catch((e: { name?: string }) => {
        if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
      });
      return { ref: name, attributes: { Arn: arn.bucket(name), DomainName: `${name}.s3.amazonaws.com` } };
    }
    default: return undefined;
  }
}

async function createTable(props: Props, name: string, dynamodb: DynamoDBClient): Promise<Physical> {
  const input: CreateTableCommandInput = {
    TableName: name,
    AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: (props.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes']) ?? undefined,
    StreamSpecification: props.StreamSpecification
      ? { StreamEnabled: true, StreamViewType: (props.StreamSpecification as { StreamViewType: 'NEW_AND_OLD_IMAGES' }).StreamViewType }
      : undefined,
    // SSE, point-in-time recovery and TTL are AWS-side guarantees DynamoDB Local does not model.
  };
  await dynamodb.send(new CreateTableCommand(input)).catch((e: unknown) => {
    if (!(e instanceof ResourceInUseException)) throw e;
  });
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
  const attributes: Record<string, string> = { Arn: Table!.TableArn ?? arn.table(name) };
  if (Table!.LatestStreamArn) attributes.StreamArn = Table!.LatestStreamArn;
  return { ref: name, attributes };
}

async function waitFor(ready: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > until) throw new Error('resource did not become ready in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
