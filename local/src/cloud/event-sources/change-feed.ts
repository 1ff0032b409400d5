import { createHash } from 'node:crypto';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { StreamWrites } from '../emulators/stream-writes';
import { PLAIN_MAPPING, startStreamPoller, type StreamPoller } from './stream-poller';
import { dynamodbSource } from './stream-sources';

export interface ChangeRecord {
  eventID: string;
  eventName: string;
  awsRegion: string;
  userIdentity?: unknown;
  dynamodb: { ApproximateCreationDateTime: number; Keys: Record<string, unknown>; NewImage?: unknown; OldImage?: unknown; SizeBytes?: number };
}

/**
 * Kinesis Data Streams for DynamoDB (a table's KinesisStreamSpecification): every item change goes to the Kinesis
 * stream as AWS writes it, one JSON record per change keyed by the item's key. The emulator has no such feature, so
 * the table's own stream is read and forwarded; a failed put is retried whole, so the feed, like AWS's, delivers
 * at least once and may repeat a change.
 */
export async function startChangeFeed(opts: {
  tableName: string;
  kinesisStreamArn: string;
  /** KinesisStreamSpecification.ApproximateCreationDateTimePrecision: AWS's default is MICROSECOND. */
  precision: Precision;
  clients: { dynamodb: DynamoDBClient; streams: DynamoDBStreamsClient; kinesis: KinesisClient; sqs: SQSClient };
  log: (line: string) => void;
  checkpointFile: string;
  writes: StreamWrites;
}): Promise<StreamPoller> {
  const { clients, tableName } = opts;
  const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  const tableStream = Table?.LatestStreamArn;
  if (!tableStream) throw new Error(`table ${tableName} has no stream to feed Kinesis from`);
  const StreamName = opts.kinesisStreamArn.split('/').pop()!;
  const forward = async (records: ChangeRecord[]) => {
    if (!records.length) return;
    const { FailedRecordCount } = await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName,
        Records: records.map((r) => ({
          PartitionKey: createHash('md5').update(JSON.stringify(r.dynamodb.Keys)).digest('hex').toUpperCase(),
          Data: Buffer.from(JSON.stringify(changeData(tableName, r, opts.precision))),
        })),
      }),
    );
    if (FailedRecordCount) throw new Error(`${FailedRecordCount} changes of ${tableName} were not accepted by ${StreamName}`);
  };
  return startStreamPoller(
    {
      functionName: `change feed of ${tableName}`,
      kind: 'dynamodb',
      streamArn: tableStream,
      batchSize: 500,
      ...PLAIN_MAPPING,
      checkpointFile: opts.checkpointFile,
    },
    { source: dynamodbSource(clients.streams, tableStream), sqs: clients.sqs, log: opts.log, writes: opts.writes, invoke: (_fn, event) => forward((event as { Records: ChangeRecord[] }).Records) },
  );
}

export type Precision = 'MILLISECOND' | 'MICROSECOND';

/** The record's data as AWS documents it: creation time in the table's precision, both images, the table's name. */
export function changeData(tableName: string, r: ChangeRecord, precision: Precision) {
  const d = r.dynamodb;
  return {
    awsRegion: r.awsRegion,
    eventID: r.eventID,
    eventName: r.eventName,
    userIdentity: r.userIdentity ?? null,
    recordFormat: 'application/json',
    tableName,
    dynamodb: {
      ApproximateCreationDateTime: d.ApproximateCreationDateTime * (precision === 'MICROSECOND' ? 1_000_000 : 1000),
      ApproximateCreationDateTimePrecision: precision,
      Keys: d.Keys,
      NewImage: d.NewImage,
      OldImage: d.OldImage,
      SizeBytes: d.SizeBytes,
    },
    eventSource: 'aws:dynamodb',
  };
}
