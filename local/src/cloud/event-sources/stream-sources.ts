import {
  DescribeStreamCommand,
  GetRecordsCommand as DdbGetRecords,
  GetShardIteratorCommand as DdbGetIterator,
  type DynamoDBStreamsClient,
  type _Record as DdbRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, type _Record as KinesisRecord, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { ACCOUNT, REGION } from '../account';

export interface Shard {
  shardId: string;
  parentShardId?: string;
}
export type Position = { type: 'TRIM_HORIZON' | 'LATEST' } | { type: 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string };
/** A record as Lambda hands it to the function, with what the poller needs to checkpoint and report it. */
export interface SourceRecord {
  sequenceNumber: string;
  arrival: Date;
  event: Record<string, unknown>;
}

/** The two stream APIs Lambda polls, behind one small interface; `next` is absent once a closed shard is read. */
export interface StreamSource {
  shards(): Promise<Shard[]>;
  iterator(shardId: string, position: Position): Promise<string | undefined>;
  read(shardId: string, iterator: string): Promise<{ records: SourceRecord[]; next?: string }>;
}

const PAGE = 1000;

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
      const sequenceNumber = position.type === 'AFTER_SEQUENCE_NUMBER' ? position.sequenceNumber : undefined;
      const out = await client.send(new DdbGetIterator({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: position.type, SequenceNumber: sequenceNumber }));
      return out.ShardIterator;
    },
    async read(_shardId, iterator) {
      const out = await client.send(new DdbGetRecords({ ShardIterator: iterator, Limit: PAGE }));
      return { records: (out.Records ?? []).map((r) => dynamodbRecord(r, streamArn)), next: out.NextShardIterator };
    },
  };
}

/** The record exactly as Lambda delivers it: creation time in epoch seconds, attribute values in typed JSON. */
export function dynamodbRecord(r: DdbRecord, streamArn: string): SourceRecord {
  const d = r.dynamodb!;
  const arrival = d.ApproximateCreationDateTime ?? new Date();
  return {
    sequenceNumber: d.SequenceNumber!,
    arrival,
    event: json({
      eventID: r.eventID,
      eventName: r.eventName,
      eventVersion: r.eventVersion,
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(arrival.getTime() / 1000),
        Keys: d.Keys,
        NewImage: d.NewImage,
        OldImage: d.OldImage,
        SequenceNumber: d.SequenceNumber,
        SizeBytes: d.SizeBytes,
        StreamViewType: d.StreamViewType,
      },
      eventSourceARN: streamArn,
      userIdentity: r.userIdentity,
    }) as Record<string, unknown>,
  };
}

/** Kinesis: its shards, read through ListShards and GetRecords. */
export function kinesisSource(client: KinesisClient, streamArn: string): StreamSource {
  const StreamName = streamArn.split('/').pop()!;
  return {
    async shards() {
      const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName }));
      return Shards.map((s) => ({ shardId: s.ShardId!, parentShardId: s.ParentShardId }));
    },
    async iterator(shardId, position) {
      const sequenceNumber = position.type === 'AFTER_SEQUENCE_NUMBER' ? position.sequenceNumber : undefined;
      const out = await client.send(new GetShardIteratorCommand({ StreamName, ShardId: shardId, ShardIteratorType: position.type, StartingSequenceNumber: sequenceNumber }));
      return out.ShardIterator;
    },
    async read(shardId, iterator) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: PAGE }));
      const records = (out.Records ?? []).map((r) => kinesisRecord(r, shardId, streamArn));
      return { records, next: out.NextShardIterator };
    },
  };
}

/** The record as Lambda delivers it: base64 data, arrival in epoch seconds, the shard named in eventID. */
export function kinesisRecord(r: KinesisRecord, shardId: string, streamArn: string): SourceRecord {
  const arrival = r.ApproximateArrivalTimestamp ?? new Date();
  return {
    sequenceNumber: r.SequenceNumber!,
    arrival,
    event: {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.PartitionKey,
        sequenceNumber: r.SequenceNumber,
        data: Buffer.from(r.Data ?? []).toString('base64'),
        approximateArrivalTimestamp: arrival.getTime() / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${r.SequenceNumber}`,
      eventName: 'aws:kinesis:record',
      // Lambda names the function's execution role here; locally there is no role to name.
      invokeIdentityArn: `arn:aws:iam::${ACCOUNT}:role/local-lambda-role`,
      awsRegion: REGION,
      eventSourceARN: streamArn,
    },
  };
}

/** Plain JSON as the function would receive it: binary values in base64, absent fields left out. */
function json(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(json);
  if (value instanceof Set) return [...value].map(json);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, json(v)]),
  );
}
