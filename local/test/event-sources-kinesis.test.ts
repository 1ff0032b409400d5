import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStreamCommand, DescribeStreamCommand, KinesisClient, ListShardsCommand, PutRecordCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamRecord } from 'aws-lambda';
import { startStreamPoller, type StreamPoller, type StreamPollerConfig, PLAIN_MAPPING } from '../src/cloud/event-sources/stream-poller';
import { startKinesis, type Kinesis } from '../src/cloud/emulators/kinesis';
import { StreamWrites } from '../src/cloud/emulators/stream-writes';
import { startSqs, type Sqs } from '../src/cloud/emulators/sqs';
import { aws, createQueue, fakeFunction, receive, settled, waitFor } from './event-sources-helpers';

let kinesisServer: Kinesis;
let sqsServer: Sqs;
let kinesis: KinesisClient;
let sqs: SQSClient;
let pollers: StreamPoller[] = [];
let streams = 0;

beforeAll(async () => {
  [kinesisServer, sqsServer] = await Promise.all([startKinesis(undefined, new StreamWrites()), startSqs()]);
  kinesis = new KinesisClient({ ...aws, endpoint: kinesisServer.endpoint, requestHandler: new NodeHttpHandler() });
  sqs = new SQSClient({ ...aws, endpoint: sqsServer.endpoint });
});

afterEach(async () => {
  await Promise.all(pollers.map((p) => p.stop()));
  pollers = [];
});

afterAll(async () => {
  await Promise.all([kinesisServer?.stop(), sqsServer?.stop()]);
});

async function stream(shards = 1): Promise<{ name: string; arn: string }> {
  const name = `stream-${(streams += 1)}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  const arn = await waitFor('the stream', async () => {
    const { StreamDescription: d } = await kinesis.send(new DescribeStreamCommand({ StreamName: name }));
    return d?.StreamStatus === 'ACTIVE' ? d.StreamARN : undefined;
  });
  return { name, arn };
}

async function putAll(streamName: string, items: Array<{ key: string; data: string }>): Promise<void> {
  for (const { key, data } of items) await kinesis.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: Buffer.from(data) }));
}

function poll(streamArn: string, fn: { invoke: (f: string, e: unknown) => Promise<unknown> }, overrides: Partial<StreamPollerConfig> = {}): StreamPoller {
  const poller = startStreamPoller(
    {
      functionName: 'fn',
      kind: 'kinesis',
      streamArn,
      batchSize: 10,
      ...PLAIN_MAPPING,
      ...overrides,
    },
    { kinesis, sqs, invoke: fn.invoke, log: () => undefined },
  );
  pollers.push(poller);
  return poller;
}

/**
 * A LATEST mapping delivers what arrives from the millisecond it is created on: a record of that same millisecond
 * counts as new. The history a test writes must arrive strictly before.
 */
const beforeCreation = () => new Promise((r) => setTimeout(r, 5));

const decoded = (batch: KinesisStreamRecord[]) => batch.map((r) => Buffer.from(r.kinesis.data, 'base64').toString('utf8'));

describe('stream poller on Kinesis (kinesalite)', () => {
  it("delivers records in order, shaped like Lambda's Kinesis event", async () => {
    const s = await stream();
    await putAll(s.name, [
      { key: 'k', data: 'one' },
      { key: 'k', data: 'two' },
      { key: 'k', data: 'three' },
    ]);
    const fn = fakeFunction<KinesisStreamRecord>();
    await settled(poll(s.arn, fn, { batchSize: 2 }));

    expect(fn.batches.map(decoded)).toEqual([['one', 'two'], ['three']]);
    const record = fn.batches[0]![0]!;
    expect(record).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'k',
        sequenceNumber: expect.stringMatching(/^\d+$/),
        data: Buffer.from('one').toString('base64'),
        approximateArrivalTimestamp: expect.any(Number),
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${record.kinesis.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: expect.stringMatching(/^arn:aws:iam::/),
      awsRegion: 'eu-central-1',
      eventSourceARN: s.arn,
    });
  });

  it('filters on the decoded JSON data, dropping records that are not JSON', async () => {
    const s = await stream();
    await putAll(s.name, [
      { key: 'k', data: JSON.stringify({ order: { type: 'buy', quantity: 1000 } }) },
      { key: 'k', data: JSON.stringify({ order: { type: 'sell', quantity: 5 } }) },
      { key: 'k', data: 'not json' },
      { key: 'k', data: JSON.stringify({ order: { type: 'buy', quantity: 3 } }) },
    ]);
    const fn = fakeFunction<KinesisStreamRecord>();
    const pattern = { data: { order: { type: ['buy'], quantity: [{ numeric: ['>=', 100] }] } } };
    await settled(poll(s.arn, fn, { filterPatterns: [JSON.stringify(pattern)] }));
    expect(fn.batches.flatMap(decoded)).toEqual([JSON.stringify({ order: { type: 'buy', quantity: 1000 } })]);
  });

  it('retries from the lowest failed sequence number of a partial batch response, whatever their order, then reports what still fails', async () => {
    const s = await stream();
    const queueUrl = await createQueue(sqs, 'kinesis-dlq');
    await putAll(s.name, [
      { key: 'k', data: 'ok' },
      { key: 'k', data: 'bad-1' },
      { key: 'k', data: 'between' },
      { key: 'k', data: 'bad-2' },
      { key: 'k', data: 'after' },
    ]);
    // Both failures reported, the higher one first: Lambda retries from the lower one all the same.
    const fn = fakeFunction<KinesisStreamRecord>((records) => ({
      batchItemFailures: records
        .filter((r) => decoded([r])[0]!.startsWith('bad'))
        .reverse()
        .map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })),
    }));
    await settled(poll(s.arn, fn, { reportBatchItemFailures: true, maxRetryAttempts: 1, onFailureQueueUrl: queueUrl }));

    expect(fn.batches.map(decoded)).toEqual([
      ['ok', 'bad-1', 'between', 'bad-2', 'after'],
      ['bad-1', 'between', 'bad-2', 'after'],
    ]);
    const [, bad, , , after] = fn.batches[0]!;
    expect(await receive(sqs, queueUrl)).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 },
      version: '1.0',
      KinesisBatchInfo: {
        shardId: 'shardId-000000000000',
        startSequenceNumber: bad!.kinesis.sequenceNumber,
        endSequenceNumber: after!.kinesis.sequenceNumber,
        batchSize: 4,
        streamArn: s.arn,
      },
    });
  });

  it('reads every shard, each in order', async () => {
    const s = await stream(2);
    const items = Array.from({ length: 12 }, (_, i) => ({ key: `key-${i % 4}`, data: `${i % 4}:${i}` }));
    await putAll(s.name, items);
    const fn = fakeFunction<KinesisStreamRecord>();
    await settled(poll(s.arn, fn, { batchSize: 2 }));

    const delivered = fn.batches.flat();
    expect(new Set(delivered.map((r) => r.eventID.split(':')[0])).size).toBe(2);
    expect(delivered.map((r) => decoded([r])[0]).sort()).toEqual(items.map((i) => i.data).sort());
    for (const key of ['key-0', 'key-1', 'key-2', 'key-3']) {
      const own = items.filter((i) => i.key === key).map((i) => i.data);
      expect(delivered.filter((r) => r.kinesis.partitionKey === key).map((r) => decoded([r])[0])).toEqual(own);
    }
  });

  it('follows a split shard to its children once the parent is read', async () => {
    const s = await stream();
    const fn = fakeFunction<KinesisStreamRecord>();
    const poller = poll(s.arn, fn);
    await putAll(s.name, [
      { key: 'k', data: 'before-1' },
      { key: 'k', data: 'before-2' },
    ]);
    await waitFor("the parent's records", () => fn.batches.flat().length === 2);

    await kinesis.send(new SplitShardCommand({ StreamName: s.name, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (2n ** 127n).toString() }));
    await waitFor('the split', async () => ((await kinesis.send(new ListShardsCommand({ StreamName: s.name }))).Shards ?? []).length === 3);
    await waitFor('the stream to be active', async () => (await kinesis.send(new DescribeStreamCommand({ StreamName: s.name }))).StreamDescription?.StreamStatus === 'ACTIVE');
    await putAll(s.name, [
      { key: 'k', data: 'after-1' },
      { key: 'k', data: 'after-2' },
    ]);
    await waitFor("the children's records", () => fn.batches.flat().length === 4);
    await settled(poller);

    const delivered = fn.batches.flat();
    expect(delivered.map((r) => decoded([r])[0])).toEqual(['before-1', 'before-2', 'after-1', 'after-2']);
    expect(delivered[2]!.eventID.split(':')[0]).not.toBe('shardId-000000000000');
  });

  it('cuts batches short to keep every invocation payload within 6 MB', async () => {
    const s = await stream();
    const big = (i: number) => `${i}`.padEnd(900 * 1024, 'x'); // ~1.2 MB once base64-encoded in the event
    const items = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ key: 'k', data: big(i) }));
    await putAll(s.name, items);
    const sizes: number[] = [];
    const fn = fakeFunction<KinesisStreamRecord>((records) => {
      sizes.push(Buffer.byteLength(JSON.stringify({ Records: records })));
    });
    await settled(poll(s.arn, fn, { batchSize: 10 }));

    expect(fn.batches.flat().map((r) => decoded([r])[0]![0])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(fn.batches.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(6 * 1024 * 1024);
  });

  it('skips records older than MaximumRecordAgeInSeconds to the on-failure destination', async () => {
    const s = await stream();
    await putAll(s.name, [
      { key: 'k', data: 'old-1' },
      { key: 'k', data: 'old-2' },
    ]);
    await new Promise((r) => setTimeout(r, 1100)); // the records are now over a second old
    const queueUrl = await createQueue(sqs, 'record-age');
    const fn = fakeFunction<KinesisStreamRecord>();
    await settled(poll(s.arn, fn, { maxRecordAgeSeconds: 1, onFailureQueueUrl: queueUrl }));

    expect(fn.batches).toEqual([]);
    expect(await receive(sqs, queueUrl)).toMatchObject({ requestContext: { condition: 'RecordAgeExceeded', approximateInvokeCount: 0 }, KinesisBatchInfo: { batchSize: 2 } });
  });

  it('starts a LATEST mapping where it was created, however late its first read', async () => {
    const s = await stream();
    await putAll(s.name, [{ key: 'k', data: 'history' }]);
    await beforeCreation();
    const fn = fakeFunction<KinesisStreamRecord>();
    const poller = poll(s.arn, fn, { startingPosition: 'LATEST' });
    // Written at once, before the poller can have taken an iterator: a LATEST iterator taken now would miss it.
    await putAll(s.name, [{ key: 'k', data: 'new' }]);
    // The poller may have been caught up before the put landed: wait for the record itself.
    await waitFor('the new record', () => fn.batches.length > 0);
    await settled(poller);
    expect(fn.batches.map(decoded)).toEqual([['new']]);
  });

  it('keeps a LATEST start across a restart before the first record', async () => {
    const s = await stream();
    await putAll(s.name, [{ key: 'k', data: 'history' }]);
    await beforeCreation();
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'checkpoint-')), 'fn.json');
    const created = poll(s.arn, fakeFunction<KinesisStreamRecord>(), { startingPosition: 'LATEST', checkpointFile });
    await settled(created);
    await created.stop();
    await putAll(s.name, [{ key: 'k', data: 'while stopped' }]);

    const fn = fakeFunction<KinesisStreamRecord>();
    await settled(poll(s.arn, fn, { startingPosition: 'LATEST', checkpointFile }));
    expect(fn.batches.map(decoded)).toEqual([['while stopped']]);
  });

  it('stops without waiting for an invocation in flight, whose records the next start reads again', async () => {
    const s = await stream();
    await putAll(s.name, [{ key: 'k', data: 'slow' }]);
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'checkpoint-')), 'fn.json');
    let invoked = () => {};
    const inFlight = new Promise<void>((resolve) => (invoked = resolve));
    // A function that never returns: a stop that waited for it would never end.
    const never = () => {
      invoked();
      return new Promise(() => undefined);
    };
    const hung = poll(s.arn, { invoke: never }, { maxRetryAttempts: 0, checkpointFile });
    await inFlight;
    await hung.stop();

    const fn = fakeFunction<KinesisStreamRecord>();
    await settled(poll(s.arn, fn, { checkpointFile }));
    expect(fn.batches.map(decoded)).toEqual([['slow']]);
  });

  it('retries a throttled batch without using up its retries', async () => {
    const s = await stream();
    await putAll(s.name, [{ key: 'k', data: 'one' }]);
    const fn = fakeFunction<KinesisStreamRecord>((_records, call) => {
      if (call <= 2) throw Object.assign(new Error('Rate Exceeded'), { errorType: 'TooManyRequestsException' });
    });
    await settled(poll(s.arn, fn, { maxRetryAttempts: 0 }));

    expect(fn.batches.map(decoded)).toEqual([['one'], ['one'], ['one']]);
  });
});

describe('ParallelizationFactor: concurrent batches of one shard (kinesalite)', () => {
  /** A function that takes `ms` per batch, recording each batch's records and how many batches overlapped. */
  function timed(ms: number, fail: (records: KinesisStreamRecord[]) => boolean = () => false) {
    const batches: KinesisStreamRecord[][] = [];
    let running = 0;
    let peak = 0;
    return {
      batches,
      peak: () => peak,
      invoke: async (_fn: string, event: unknown) => {
        running += 1;
        peak = Math.max(peak, running);
        try {
          const records = (event as { Records: KinesisStreamRecord[] }).Records;
          batches.push(records);
          await new Promise((r) => setTimeout(r, ms));
          if (fail(records)) throw new Error('the batch failed');
        } finally {
          running -= 1;
        }
      },
    };
  }
  const byKey = (items: Array<{ key: string; data: string }>, key: string) => items.filter((i) => i.key === key).map((i) => i.data);

  it('runs up to that many batches of a shard at once, each partition key in order and every record once', async () => {
    const s = await stream();
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const items = Array.from({ length: 30 }, (_, i) => ({ key: keys[i % keys.length]!, data: `${keys[i % keys.length]}:${i}` }));
    await putAll(s.name, items);
    const fn = timed(100);
    await settled(poll(s.arn, fn, { batchSize: 2, parallelization: 3 }));

    expect(fn.peak()).toBe(3);
    const delivered = fn.batches.flat();
    expect(delivered.map((r) => decoded([r])[0]).sort()).toEqual(items.map((i) => i.data).sort());
    for (const key of keys) expect(delivered.filter((r) => r.kinesis.partitionKey === key).map((r) => decoded([r])[0])).toEqual(byKey(items, key));
  });

  it('keeps one batch per shard at a time without it', async () => {
    const s = await stream();
    await putAll(
      s.name,
      ['a', 'b', 'c', 'd'].map((key) => ({ key, data: key })),
    );
    const fn = timed(50);
    await settled(poll(s.arn, fn, { batchSize: 1 }));
    expect(fn.peak()).toBe(1);
    expect(fn.batches.map(decoded)).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it("retries and gives up a failing key's batch on its own while the other keys go on", async () => {
    const s = await stream();
    const queueUrl = await createQueue(sqs, 'parallel-dlq');
    const items = ['bad', 'good', 'bad', 'good', 'good'].map((key, i) => ({ key, data: `${key}:${i}` }));
    await putAll(s.name, items);
    const fn = timed(20, (records) => records.some((r) => r.kinesis.partitionKey === 'bad'));
    await settled(poll(s.arn, fn, { batchSize: 2, parallelization: 2, maxRetryAttempts: 1, onFailureQueueUrl: queueUrl }));

    const good = fn.batches.filter((b) => b[0]!.kinesis.partitionKey === 'good').map(decoded);
    expect(good.flat()).toEqual(byKey(items, 'good'));
    expect(fn.batches.filter((b) => b[0]!.kinesis.partitionKey === 'bad').map(decoded)).toEqual([byKey(items, 'bad'), byKey(items, 'bad')]);
    expect(await receive(sqs, queueUrl)).toMatchObject({ requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 }, KinesisBatchInfo: { batchSize: 2 } });
  });

  it('checkpoints a shard only past records whose batches, and all batches before them, succeeded', async () => {
    const s = await stream();
    const items = ['slow', 'fast', 'fast', 'fast'].map((key, i) => ({ key, data: `${key}:${i}` }));
    await putAll(s.name, items);
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'checkpoint-')), 'fn.json');
    const fast = timed(1);
    // The first record's batch never returns; the other lane delivers the rest meanwhile.
    const hung = poll(
      s.arn,
      { invoke: (fn, event) => ((event as { Records: KinesisStreamRecord[] }).Records[0]!.kinesis.partitionKey === 'slow' ? new Promise(() => undefined) : fast.invoke(fn, event)) },
      {
        batchSize: 1,
        parallelization: 2,
        checkpointFile,
      },
    );
    await waitFor('the fast lane', () => fast.batches.length === 3);
    await hung.stop();

    // Nothing was checkpointed past the hung record: the next start delivers it, and the records after it, again.
    const again = timed(1);
    await settled(poll(s.arn, again, { batchSize: 10, checkpointFile }));
    expect(again.batches.flatMap(decoded)).toEqual(items.map((i) => i.data));
  });
});
