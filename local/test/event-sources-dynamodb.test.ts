import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import { startDynamoDb, type DynamoDb } from '../src/cloud/emulators/dynamodb';
import { StreamWrites } from '../src/cloud/emulators/stream-writes';
import { startStreamPoller, type StreamPoller, type StreamPollerConfig, PLAIN_MAPPING } from '../src/cloud/event-sources/stream-poller';
import { startSqs, type Sqs } from '../src/cloud/emulators/sqs';
import { aws, createQueue, fakeFunction, receive, settled, waitFor } from './event-sources-helpers';

let dynamodb: DynamoDb;
let sqsServer: Sqs;
let db: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let sqs: SQSClient;
let pollers: StreamPoller[] = [];
let tables = 0;
const logs: string[] = [];
const gaveUp: Array<{ functionName: string; reason: string }> = [];

beforeAll(async () => {
  [dynamodb, sqsServer] = await Promise.all([startDynamoDb(undefined, () => undefined, new StreamWrites()), startSqs()]);
  db = new DynamoDBClient({ ...aws, endpoint: dynamodb.endpoint });
  streams = new DynamoDBStreamsClient({ ...aws, endpoint: dynamodb.endpoint });
  sqs = new SQSClient({ ...aws, endpoint: sqsServer.endpoint });
});

afterEach(async () => {
  await Promise.all(pollers.map((p) => p.stop()));
  pollers = [];
});

afterAll(async () => {
  await Promise.all([dynamodb?.stop(), sqsServer?.stop()]);
});

/** A fresh table with a NEW_AND_OLD_IMAGES stream, as the metastore has. */
async function table(): Promise<{ name: string; streamArn: string }> {
  const name = `table-${(tables += 1)}`;
  const out = await db.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return { name, streamArn: out.TableDescription!.LatestStreamArn! };
}

const put = (tableName: string, id: string, extra: Record<string, unknown> = {}) => db.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: id }, ...extra } as never }));

async function putAll(tableName: string, ids: string[]): Promise<void> {
  for (const id of ids) await put(tableName, id); // one by one: the stream order is the write order
}

function poll(streamArn: string, fn: { invoke: (f: string, e: unknown) => Promise<unknown> }, overrides: Partial<StreamPollerConfig> = {}): StreamPoller {
  const poller = startStreamPoller(
    {
      functionName: 'fn',
      kind: 'dynamodb',
      streamArn,
      batchSize: 10,
      ...PLAIN_MAPPING,
      ...overrides,
    },
    { streams, sqs, invoke: fn.invoke, log: (l) => logs.push(l), gaveUp: (e) => gaveUp.push(e) },
  );
  pollers.push(poller);
  return poller;
}

const ids = (batch: DynamoDBRecord[]) => batch.map((r) => r.dynamodb!.Keys!.id!.S);
const seq = (r: DynamoDBRecord) => r.dynamodb!.SequenceNumber!;

describe('stream poller on DynamoDB Streams (DynamoDB Local)', () => {
  it("delivers every record in write order, in batches of at most batchSize, one invocation at a time, shaped like Lambda's event", async () => {
    const t = await table();
    await putAll(t.name, ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    const fn = fakeFunction<DynamoDBRecord>();
    await settled(poll(t.streamArn, fn, { batchSize: 3 }));

    expect(fn.batches.map(ids)).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
    expect(fn.maxConcurrent()).toBe(1);
    const record = fn.batches[0]![0]!;
    expect(record).toEqual({
      eventID: expect.any(String),
      eventName: 'INSERT',
      eventVersion: expect.any(String),
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-central-1',
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: { id: { S: 'a' } },
        NewImage: { id: { S: 'a' } },
        SequenceNumber: expect.stringMatching(/^\d+$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: t.streamArn,
    });
    const all = fn.batches.flat().map(seq);
    expect(all.map(BigInt)).toEqual([...all.map(BigInt)].sort((x, y) => (x < y ? -1 : 1)));
  });

  it('carries old and new images of a modification', async () => {
    const t = await table();
    await put(t.name, 'a', { n: { N: '1' } });
    await db.send(new UpdateItemCommand({ TableName: t.name, Key: { id: { S: 'a' } }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': { N: '2' } } }));
    const fn = fakeFunction<DynamoDBRecord>();
    await settled(poll(t.streamArn, fn));
    const modify = fn.batches.flat()[1]!;
    expect(modify.eventName).toBe('MODIFY');
    expect(modify.dynamodb!.OldImage).toEqual({ id: { S: 'a' }, n: { N: '1' } });
    expect(modify.dynamodb!.NewImage).toEqual({ id: { S: 'a' }, n: { N: '2' } });
  });

  it('waits up to the batching window to fill a batch', async () => {
    const t = await table();
    const fn = fakeFunction<DynamoDBRecord>();
    const poller = poll(t.streamArn, fn, { batchWindowSeconds: 1 });
    await settled(poller);
    const started = Date.now();
    await putAll(t.name, ['a', 'b', 'c']);
    await waitFor('a batch', () => fn.batches.length > 0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await settled(poller);
    expect(fn.batches.map(ids)).toEqual([['a', 'b', 'c']]);
  });

  it('starts at the tip of the stream with LATEST', async () => {
    const t = await table();
    await put(t.name, 'old');
    const fn = fakeFunction<DynamoDBRecord>();
    const poller = poll(t.streamArn, fn, { startingPosition: 'LATEST' });
    await settled(poller);
    await put(t.name, 'new');
    await waitFor('the new record', () => fn.batches.length > 0);
    await settled(poller);
    expect(fn.batches.map(ids)).toEqual([['new']]);
  });

  it('drops records the filters reject, counting them as processed', async () => {
    const t = await table();
    const dir = mkdtempSync(join(tmpdir(), 'poller-'));
    const checkpointFile = join(dir, 'checkpoints.json');
    try {
      await put(t.name, 'ready', { account_persisted: { BOOL: true }, relation_established: { BOOL: false } });
      await put(t.name, 'done', { account_persisted: { BOOL: true }, relation_established: { BOOL: true } });
      await put(t.name, 'new', { account_persisted: { BOOL: false }, relation_established: { BOOL: false } });
      const fn = fakeFunction<DynamoDBRecord>();
      const filter = { dynamodb: { NewImage: { account_persisted: { BOOL: [true] }, relation_established: { BOOL: [false] } } } };
      await settled(poll(t.streamArn, fn, { filterPatterns: [JSON.stringify(filter)], checkpointFile }));
      expect(fn.batches.map(ids)).toEqual([['ready']]);

      // The position moved past the last (dropped) record: a restarted poller has nothing left to do.
      expect(Object.values(JSON.parse(readFileSync(checkpointFile, 'utf8')) as Record<string, string>)).toHaveLength(1);
      const again = fakeFunction<DynamoDBRecord>();
      await settled(poll(t.streamArn, again, { checkpointFile }));
      expect(again.batches).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('with ReportBatchItemFailures', () => {
    it('checkpoints before the lowest failed record and retries from there', async () => {
      const t = await table();
      await putAll(t.name, ['a', 'b', 'c', 'd', 'e']);
      const fn = fakeFunction<DynamoDBRecord>((records, call) =>
        call === 1 ? { batchItemFailures: [{ itemIdentifier: seq(records[3]!) }, { itemIdentifier: seq(records[2]!) }] } : { batchItemFailures: [] },
      );
      await settled(poll(t.streamArn, fn, { reportBatchItemFailures: true }));
      expect(fn.batches.map(ids)).toEqual([
        ['a', 'b', 'c', 'd', 'e'],
        ['c', 'd', 'e'],
      ]);
    });

    it('retries the whole batch when an identifier names no record of it', async () => {
      const t = await table();
      await putAll(t.name, ['a', 'b']);
      const fn = fakeFunction<DynamoDBRecord>((_records, call) => (call === 1 ? { batchItemFailures: [{ itemIdentifier: '' }] } : null));
      await settled(poll(t.streamArn, fn, { reportBatchItemFailures: true }));
      expect(fn.batches.map(ids)).toEqual([
        ['a', 'b'],
        ['a', 'b'],
      ]);
    });

    it('sends the failing rest of the batch to the on-failure queue once retries are exhausted', async () => {
      const t = await table();
      const queueUrl = await createQueue(sqs, 'partial-dlq');
      await putAll(t.name, ['a', 'b', 'c']);
      const fn = fakeFunction<DynamoDBRecord>((records) => ({ batchItemFailures: records.filter((r) => ids([r])[0] !== 'a').map((r) => ({ itemIdentifier: seq(r) })) }));
      await settled(poll(t.streamArn, fn, { reportBatchItemFailures: true, maxRetryAttempts: 2, onFailureQueueUrl: queueUrl }));

      expect(fn.batches.map(ids)).toEqual([
        ['a', 'b', 'c'],
        ['b', 'c'],
        ['b', 'c'],
      ]);
      const failure = await receive(sqs, queueUrl);
      const [, b, c] = fn.batches[0]!;
      expect(failure).toMatchObject({
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
        responseContext: { statusCode: 200, executedVersion: '$LATEST' },
        DDBStreamBatchInfo: { startSequenceNumber: seq(b!), endSequenceNumber: seq(c!), batchSize: 2, streamArn: t.streamArn },
      });
      expect(failure).not.toHaveProperty('responseContext.functionError');
      expect(gaveUp).toContainEqual({ functionName: 'fn', reason: 'partial batch failure' });
    });
  });

  it('bisects a failing batch down to the bad record, without using up retries, then moves on', async () => {
    const t = await table();
    const queueUrl = await createQueue(sqs, 'bisect-dlq');
    await putAll(t.name, ['a', 'b', 'bad', 'd']);
    const fn = fakeFunction<DynamoDBRecord>((records) => {
      if (ids(records).includes('bad')) throw new Error('poison record');
    });
    await settled(poll(t.streamArn, fn, { bisectOnError: true, maxRetryAttempts: 0, onFailureQueueUrl: queueUrl }));

    expect(fn.batches.map(ids)).toEqual([['a', 'b', 'bad', 'd'], ['a', 'b'], ['bad', 'd'], ['bad'], ['d']]);
    const failure = await receive(sqs, queueUrl);
    const bad = fn.batches[3]![0]!;
    expect(failure).toEqual({
      requestContext: { requestId: expect.any(String), functionArn: expect.stringMatching(/^arn:aws:lambda:.*:function:fn$/), condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      DDBStreamBatchInfo: {
        shardId: expect.any(String),
        startSequenceNumber: seq(bad),
        endSequenceNumber: seq(bad),
        approximateArrivalOfFirstRecord: expect.any(String),
        approximateArrivalOfLastRecord: expect.any(String),
        batchSize: 1,
        streamArn: t.streamArn,
      },
    });
  });

  it('is in flight while an invocation runs, and stops even while a batch is retried forever', async () => {
    const t = await table();
    await put(t.name, 'a');
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const poller = poll(t.streamArn, {
      invoke: async () => {
        calls += 1;
        await gate;
        throw new Error('always');
      },
    });
    await waitFor('the invocation', () => poller.inFlight());
    expect(poller.caughtUp()).toBe(false);
    release();
    await waitFor('a retry', () => calls >= 3);
    expect(poller.caughtUp()).toBe(false);
    const stopping = Date.now();
    await poller.stop();
    expect(Date.now() - stopping).toBeLessThan(1000);
    expect(poller.inFlight()).toBe(false);
  });

  it('retries a failing batch maxRetryAttempts times, reports it, and carries on with the next records', async () => {
    const t = await table();
    const queueUrl = await createQueue(sqs, 'retry-dlq');
    await putAll(t.name, ['x', 'y']);
    const fn = fakeFunction<DynamoDBRecord>((records) => {
      if (ids(records).includes('x')) throw new Error('boom');
    });
    const poller = poll(t.streamArn, fn, { maxRetryAttempts: 2, onFailureQueueUrl: queueUrl });
    await settled(poller);
    await put(t.name, 'z');
    await waitFor('the next record', () => fn.batches.some((b) => ids(b).includes('z')));
    await settled(poller);

    expect(fn.batches.map(ids)).toEqual([['x', 'y'], ['x', 'y'], ['x', 'y'], ['z']]);
    const failure = await receive(sqs, queueUrl);
    expect(failure).toMatchObject({
      requestContext: { approximateInvokeCount: 3 },
      responseContext: { functionError: 'Unhandled' },
      DDBStreamBatchInfo: { startSequenceNumber: seq(fn.batches[0]![0]!), endSequenceNumber: seq(fn.batches[0]![1]!), batchSize: 2 },
    });
  });
});

describe('ParallelizationFactor on a DynamoDB stream', () => {
  it('runs batches of one shard at once, the changes of each item in order', async () => {
    const t = await table();
    const ids = ['a', 'b', 'c', 'd'];
    for (const v of [1, 2, 3]) for (const id of ids) await put(t.name, id, { v: { N: String(v) } });
    const fn = fakeFunction<DynamoDBRecord>();
    await settled(poll(t.streamArn, fn, { batchSize: 1, parallelization: 2 }));

    expect(fn.maxConcurrent()).toBe(2);
    const delivered = fn.batches.flat();
    expect(delivered).toHaveLength(12);
    for (const id of ids) expect(delivered.filter((r) => r.dynamodb!.Keys!.id!.S === id).map((r) => r.dynamodb!.NewImage!.v!.N)).toEqual(['1', '2', '3']);
  });
});
