import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dynamodbShard, isDynamoDbWrite, isKinesisWrite, kinesisShard, StreamWrites, shardKey, writtenTables } from '../src/cloud/emulators/stream-writes';

const HOUR = 3_600_000;
const settled = async (p: Promise<void>) => Promise.race([p.then(() => true), new Promise((r) => setImmediate(() => r(false)))]);
const SHARD_1 = kinesisShard('feed', 'shardId-000000000001');
const SHARD_2 = kinesisShard('feed', 'shardId-000000000002');

/** A server behind `observe` that answers every request with `answer`; `call` sends it a target and a body. */
async function observed(observe: (req: IncomingMessage, res: ServerResponse) => void, answer: string) {
  const server = createServer((req, res) => {
    observe(req, res);
    req.resume().on('end', () => res.end(answer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const call = (target: string, body: unknown) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ port: (server.address() as AddressInfo).port, method: 'POST', headers: { 'x-amz-target': target } }, (res) => res.resume().on('end', resolve));
      req.on('error', reject).end(JSON.stringify(body));
    });
  return { call, close: () => server.close() };
}

describe('StreamWrites: what wakes an idle stream reader', () => {
  it('wakes a waiting reader at the next write to what it reads, and at no other', async () => {
    const writes = new StreamWrites();
    const waiting = writes.next(SHARD_1, writes.seen(SHARD_1), HOUR, new AbortController().signal);
    writes.notify(SHARD_2);
    writes.notify(dynamodbShard('feed'));
    expect(await settled(waiting)).toBe(false);
    writes.notify(SHARD_1);
    expect(await settled(waiting)).toBe(true);
  });

  it('misses no write made while the reader was reading: it returns at once', async () => {
    const writes = new StreamWrites();
    const before = writes.seen(SHARD_1);
    writes.notify(SHARD_1);
    expect(await settled(writes.next(SHARD_1, before, HOUR, new AbortController().signal))).toBe(true);
  });

  it('reaches, for a write to shards unknown, every reader of the stream, reading or waiting', async () => {
    const writes = new StreamWrites();
    const reading = writes.seen(SHARD_2);
    const waiting = writes.next(SHARD_1, writes.seen(SHARD_1), HOUR, new AbortController().signal);
    const other = kinesisShard('events', 'shardId-000000000001');
    const elsewhere = writes.next(other, writes.seen(other), HOUR, new AbortController().signal);
    writes.notifyAll(kinesisShard('feed', ''));
    expect(await settled(waiting)).toBe(true);
    expect(writes.seen(SHARD_2)).toBe(reading + 1);
    expect(await settled(elsewhere)).toBe(false);
  });

  it('lets a stopping reader go', async () => {
    const writes = new StreamWrites();
    const abort = new AbortController();
    const waiting = writes.next(SHARD_1, writes.seen(SHARD_1), HOUR, abort.signal);
    abort.abort();
    expect(await settled(waiting)).toBe(true);
  });

  it("keys a reader by its table's stream, or by its Kinesis shard", () => {
    expect(shardKey('dynamodb', 'arn:aws:dynamodb:ddblocal:000000000000:table/batches/stream/2026-12-07T00:00:00.000', 'shardId-1')).toBe(dynamodbShard('batches'));
    expect(shardKey('kinesis', 'arn:aws:kinesis:eu-west-1:000000000000:stream/feed', 'shardId-000000000001')).toBe(SHARD_1);
  });

  it('reads the tables an item write names, by name or ARN; PartiQL names none it can tell', () => {
    expect(writtenTables(Buffer.from(JSON.stringify({ TableName: 'a', Item: {} })))).toEqual(['a']);
    expect(writtenTables(Buffer.from(JSON.stringify({ TableName: 'arn:aws:dynamodb:eu-west-1:1:table/a', Key: {} })))).toEqual(['a']);
    expect(writtenTables(Buffer.from(JSON.stringify({ RequestItems: { a: [], b: [] } })))).toEqual(['a', 'b']);
    expect(writtenTables(Buffer.from(JSON.stringify({ TransactItems: [{ Put: { TableName: 'a' } }, { Update: { TableName: 'b' } }] })))).toEqual(['a', 'b']);
    expect(writtenTables(Buffer.from(JSON.stringify({ Statement: 'INSERT INTO a VALUE {}' })))).toBeUndefined();
  });

  it('counts only answered item writes, to the tables they name', async () => {
    expect(['DynamoDB_20120810.PutItem', 'DynamoDB_20120810.UpdateItem', 'DynamoDB_20120810.TransactWriteItems'].every(isDynamoDbWrite)).toBe(true);
    expect(['DynamoDB_20120810.GetItem', 'DynamoDB_20120810.Query', 'DynamoDBStreams_20120810.GetRecords'].some(isDynamoDbWrite)).toBe(false);
    const writes = new StreamWrites();
    const [a, b] = [dynamodbShard('a'), dynamodbShard('b')];
    const [seenA, seenB] = [writes.seen(a), writes.seen(b)];
    const server = await observed(writes.watchDynamoDb(), '{}');
    try {
      await server.call('DynamoDB_20120810.GetItem', { TableName: 'a' });
      expect([writes.seen(a), writes.seen(b)]).toEqual([seenA, seenB]);
      await server.call('DynamoDB_20120810.PutItem', { TableName: 'a', Item: {} });
      expect([writes.seen(a), writes.seen(b)]).toEqual([seenA + 1, seenB]);
      await server.call('DynamoDB_20120810.ExecuteStatement', { Statement: 'UPDATE b SET x = 1' });
      expect([writes.seen(a), writes.seen(b)]).toEqual([seenA + 2, seenB + 1]);
    } finally {
      server.close();
    }
  });

  it('counts only answered record writes, to the shards their answer names', async () => {
    expect(['Kinesis_20131202.PutRecord', 'Kinesis_20131202.PutRecords'].every(isKinesisWrite)).toBe(true);
    expect(isKinesisWrite('Kinesis_20131202.GetRecords')).toBe(false);
    const writes = new StreamWrites();
    const answer = JSON.stringify({ FailedRecordCount: 0, Records: [{ ShardId: 'shardId-000000000001', SequenceNumber: '1' }] });
    const watch = writes.watchKinesis();
    // What a reader saw as each request came: not yet woken before the record can be read.
    const atRequest: number[] = [];
    const server = await observed((req, res) => {
      watch(req, res);
      atRequest.push(writes.seen(SHARD_1));
    }, answer);
    try {
      await server.call('Kinesis_20131202.GetRecords', { ShardIterator: 'x' });
      expect([writes.seen(SHARD_1), writes.seen(SHARD_2)]).toEqual([0, 0]);
      await server.call('Kinesis_20131202.PutRecords', { StreamARN: 'arn:aws:kinesis:eu-west-1:1:stream/feed', Records: [] });
      expect([writes.seen(SHARD_1), writes.seen(SHARD_2)]).toEqual([1, 0]);
      await server.call('Kinesis_20131202.PutRecords', { StreamName: 'events', Records: [] });
      expect([writes.seen(SHARD_1), writes.seen(SHARD_2)]).toEqual([1, 0]);
      expect(atRequest).toEqual([0, 0, 1]);
    } finally {
      server.close();
    }
  });
});
