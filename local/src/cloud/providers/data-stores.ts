import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, ResourceInUseException as StreamInUse } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Clients } from '../emulators/clients';
import { CloudError } from '../errors';
import { notificationRules } from '../event-sources/s3-notifications';
import type { Precision } from '../event-sources/change-feed';
import { ownerOf, type ResourceProvider } from './provider';
import { arn, REGION } from '../account';
import type { Physical, Resolver, Resource } from '../cloudformation/template';

type Props = Record<string, unknown>;

/** The data resources the local cloud creates. */
export const DATA_RESOURCES = new Set(['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::Kinesis::Stream', 'AWS::S3::Bucket']);

/** Queue properties that are SQS attributes of the same name; encryption and policies have no local meaning. */
const QUEUE_ATTRIBUTES = ['DelaySeconds', 'MaximumMessageSize', 'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds', 'VisibilityTimeout', 'FifoQueue', 'ContentBasedDeduplication'];

/**
 * Creates one data resource the way CloudFormation would, idempotently (a persistent data dir already has it),
 * and returns what Ref and Fn::GetAtt answer for it: the names and ARNs the emulators themselves report.
 */
export async function createResource(logicalId: string, resource: Resource, resolver: Resolver, stackName: string, clients: Clients): Promise<Physical> {
  const props = resolver.resolve(resource.Properties ?? {}) as Props;
  const generatedName = `${stackName}-${logicalId}`;
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
      return createTable(props, String(props.TableName ?? generatedName), clients.dynamodb);
    case 'AWS::SQS::Queue': {
      const name = String(props.QueueName ?? (props.FifoQueue ? `${generatedName}.fifo` : generatedName));
      const Attributes = Object.fromEntries(QUEUE_ATTRIBUTES.filter((a) => props[a] !== undefined).map((a) => [a, String(props[a])]));
      if (props.RedrivePolicy) Attributes.RedrivePolicy = JSON.stringify(props.RedrivePolicy);
      const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes }));
      const { Attributes: actual } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      return { ref: QueueUrl!, attributes: { Arn: actual?.QueueArn ?? arn.queue(name), QueueUrl: QueueUrl!, QueueName: name } };
    }
    case 'AWS::Kinesis::Stream': {
      const name = String(props.Name ?? generatedName);
      // kinesalite has fixed shards only: an ON_DEMAND stream gets the 4 shards AWS gives a new on-demand stream (its
      // default 4 MiB/s write capacity); AWS's later scaling has no local equivalent. Any other mode is refused.
      const mode = (props.StreamModeDetails as { StreamMode?: unknown } | undefined)?.StreamMode ?? 'PROVISIONED';
      if (mode !== 'PROVISIONED' && mode !== 'ON_DEMAND')
        throw new CloudError(`${logicalId}: StreamMode ${JSON.stringify(mode)}; the local cloud's Kinesis creates PROVISIONED and ON_DEMAND streams only`);
      const ShardCount = mode === 'ON_DEMAND' ? 4 : Number(props.ShardCount ?? 1);
      await clients.kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount })).catch((e: unknown) => {
        if (!(e instanceof StreamInUse)) throw e;
      });
      await waitFor(async () => (await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE');
      // As for tables: the ARN AWS would give, whatever account and region the emulator reports.
      return { ref: name, attributes: { Arn: arn.stream(name) } };
    }
    case 'AWS::S3::Bucket': {
      const name = String(props.BucketName ?? generatedName.toLowerCase());
      await clients.s3.send(new CreateBucketCommand({ Bucket: name })).catch((e: { name?: string }) => {
        if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
      });
      return { ref: name, attributes: { Arn: arn.bucket(name), DomainName: `${name}.s3.amazonaws.com`, RegionalDomainName: `${name}.s3.${REGION}.amazonaws.com` } };
    }
    default:
      throw new Error(`${resource.Type} is not a data resource`);
  }
}

/**
 * The data stores: tables, queues, streams and buckets, with what they wire: a queue becomes a destination functions
 * can name, a bucket's notifications and a table's change feed start invoking and writing.
 */
export const dataStores: ResourceProvider = {
  types: [...DATA_RESOURCES],
  async create(ctx) {
    const { cloud, resource } = ctx;
    const created = await createResource(ctx.logicalId, resource, ctx.resolver, ctx.stack.stackName, cloud.clients);
    const props = ctx.props();
    if (resource.Type === 'AWS::SQS::Queue') cloud.eventSources.addQueue(created.attributes.Arn!, created.ref);
    if (resource.Type === 'AWS::S3::Bucket') cloud.eventSources.notifyOn(ownerOf(ctx), notificationRules(created.ref, props));
    const feed = props.KinesisStreamSpecification as { StreamArn?: string; ApproximateCreationDateTimePrecision?: Precision } | undefined;
    if (resource.Type === 'AWS::DynamoDB::Table' && feed?.StreamArn)
      await cloud.eventSources.startChangeFeed(ownerOf(ctx), created.ref, feed.StreamArn, feed.ApproximateCreationDateTimePrecision ?? 'MICROSECOND');
    return created;
  },
  delete: (ctx) => ctx.cloud.eventSources.remove(ownerOf(ctx)),
};

async function createTable(props: Props, name: string, dynamodb: DynamoDBClient): Promise<Physical> {
  // Only the key schema, indexes and stream shape the emulator: capacity, SSE, point-in-time recovery and TTL are
  // AWS-side guarantees DynamoDB Local does not model, and CloudFormation-only fields would make it refuse the call.
  const index = (i: { IndexName: string; KeySchema: unknown; Projection: unknown }) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection });
  const indexes = (p: unknown) => (p as Array<Parameters<typeof index>[0]> | undefined)?.map(index) as never;
  const input: CreateTableCommandInput = {
    TableName: name,
    AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: indexes(props.GlobalSecondaryIndexes),
    LocalSecondaryIndexes: indexes(props.LocalSecondaryIndexes),
    StreamSpecification: props.StreamSpecification
      ? { StreamEnabled: true, StreamViewType: (props.StreamSpecification as { StreamViewType: 'NEW_AND_OLD_IMAGES' }).StreamViewType }
      : // A Kinesis feed (KinesisStreamSpecification) is forwarded from the emulator's own stream, which carries both images as the feed does.
        props.KinesisStreamSpecification
        ? { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' }
        : undefined,
  };
  await dynamodb.send(new CreateTableCommand(input)).catch((e: unknown) => {
    if (!(e instanceof ResourceInUseException)) throw e;
  });
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
  // The ARN AWS would give (DynamoDB Local names its region `ddblocal`), so role policies name the table as on AWS.
  const attributes: Record<string, string> = { Arn: arn.table(name) };
  if (Table!.LatestStreamArn && props.StreamSpecification) attributes.StreamArn = Table!.LatestStreamArn;
  return { ref: name, attributes };
}

async function waitFor(ready: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > until) throw new Error('resource did not become ready in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
