import { DescribeStreamCommand, GetRecordsCommand as DdbGetRecords, GetShardIteratorCommand as DdbGetIterator, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { REGION } from '../services';

export interface Shard { shardId: string; parentShardId?: string }
export type Position = { type: 'TRIM_HORIZON' | 'LATEST' } | { type: 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string };
/** A record as Lambda hands it to the function, with its sequence number for checkpoints and partial failures. */
export interface SourceRecord { sequenceNumber: string; arrival: number; event: Record<string, unknown> }

/** The two stream APIs Lambda polls, behind one small interface. */
export interface StreamSource {
  shards(): Promise<Shard[]>;
  iterator(shardId: string, position: Position): Promise<string | undefined>;
  read(iterator: string): Promise<{ records: SourceRecord[]; next?: string }>;
}

const seconds = (d: Date | undefined) => (d ? d.getTime() / 1000 : Date.now() / 1000);

export function dynamodbSource(client: DynamoDBStreamsClient, streamArn: string): StreamSource {
  return {
    async shards() {
      const shards: Shard[] = [];
      let start: string | undefined;
      do {
        const { StreamDescription: d } = await client.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
        shards.push(...(d?.Shards ?? []).map((s) => ({ shardId: s.ShardId!, parentShardId: s.ParentShardId })));
        start = d?.LastEvaluatedShardId;
      } while (start);
      return shards;
    },
    async iterator(shardId, position) {
      const out = await client.send(new DdbGetIterator({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: position.type, SequenceNumber: 'sequenceNumber' in position ? position.sequenceNumber : undefined }));
      return out.ShardIterator;
    },
    async read(iterator) {
      const out = await client.send(new DdbGetRecords({ ShardIterator: iterator, Limit: 1000 }));
      const records = (out.Records ?? []).map((r) => ({
        sequenceNumber: r.dynamodb!.SequenceNumber!,
        arrival: seconds(r.dynamodb?.ApproximateCreationDateTime),
        event: {
          eventID: r.eventID, eventName: r.eventName, eventVersion: r.eventVersion, eventSource: 'aws:dynamodb', awsRegion: REGION,
          dynamodb: { ...r.dynamodb, ApproximateCreationDateTime: Math.floor(seconds(r.dynamodb?.ApproximateCreationDateTime)) },
          eventSourceARN: streamArn,
        },
      }));
      return { records, next: out.NextShardIterator };
    },
  };
}

export function kinesisSource(client: KinesisClient, streamArn: string): StreamSource {
  const StreamName = streamArn.split('/').pop()!;
  return {
    async shards() {
      const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName }));
      return Shards.map((s) => ({ shardId: s.ShardId!, parentShardId: s.ParentShardId }));
    },
    async iterator(shardId, position) {
      const out = await client.send(new GetShardIteratorCommand({ StreamName, ShardId: shardId, ShardIteratorType: position.type, StartingSequenceNumber: 'sequenceNumber' in position ? position.sequenceNumber : undefined }));
      return out.ShardIterator;
    },
    async read(iterator) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      const records = (out.Records ?? []).map((r) => ({
        sequenceNumber: r.SequenceNumber!,
        arrival: seconds(r.ApproximateArrivalTimestamp),
        event: {
          kinesis: { kinesisSchemaVersion: '1.0', partitionKey: r.PartitionKey, sequenceNumber: r.SequenceNumber, data: Buffer.from(r.Data ?? []).toString('base64'), approximateArrivalTimestamp: seconds(r.ApproximateArrivalTimestamp) },
          eventSource: 'aws:kinesis', eventVersion: '1.0', eventID: `${r.SequenceNumber}`, eventName: 'aws:kinesis:record',
          invokeIdentityArn: 'arn:aws:iam::000000000000:role/local', awsRegion: REGION, eventSourceARN: streamArn,
        },
      }));
      return { records, next: out.NextShardIterator };
    },
  };
}
