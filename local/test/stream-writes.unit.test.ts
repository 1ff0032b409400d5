import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDynamoDbWrite, isKinesisWrite, StreamWrites } from '../src/cloud/emulators/stream-writes';

const HOUR = 3_600_000;
const settled = async (p: Promise<void>) => Promise.race([p.then(() => true), new Promise((r) => setImmediate(() => r(false)))]);

describe('StreamWrites: what wakes an idle stream reader', () => {
  it('wakes a waiting reader at the next write, long before its idle time is over', async () => {
    const writes = new StreamWrites();
    const abort = new AbortController();
    const waiting = writes.next(writes.seen, HOUR, abort.signal);
    expect(await settled(waiting)).toBe(false);
    writes.notify();
    expect(await settled(waiting)).toBe(true);
  });

  it('misses no write made while the reader was reading: it returns at once', async () => {
    const writes = new StreamWrites();
    const before = writes.seen;
    writes.notify();
    expect(await settled(writes.next(before, HOUR, new AbortController().signal))).toBe(true);
  });

  it('lets a stopping reader go', async () => {
    const writes = new StreamWrites();
    const abort = new AbortController();
    const waiting = writes.next(writes.seen, HOUR, abort.signal);
    abort.abort();
    expect(await settled(waiting)).toBe(true);
  });

  it('counts only answered writes: item and record writes, not reads', async () => {
    expect(['DynamoDB_20120810.PutItem', 'DynamoDB_20120810.UpdateItem', 'DynamoDB_20120810.TransactWriteItems'].every(isDynamoDbWrite)).toBe(true);
    expect(['DynamoDB_20120810.GetItem', 'DynamoDB_20120810.Query', 'DynamoDBStreams_20120810.GetRecords'].some(isDynamoDbWrite)).toBe(false);
    expect(['Kinesis_20131202.PutRecord', 'Kinesis_20131202.PutRecords'].every(isKinesisWrite)).toBe(true);
    expect(isKinesisWrite('Kinesis_20131202.GetRecords')).toBe(false);

    const writes = new StreamWrites();
    const observe = writes.watch(isKinesisWrite);
    const server = createServer((req, res) => {
      observe(req, res);
      // Not yet answered: no reader is woken before the record can be read.
      expect(writes.seen).toBe(0);
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const call = (target: string) =>
      new Promise<void>((resolve, reject) => {
        const req = request({ port: (server.address() as AddressInfo).port, method: 'POST', headers: { 'x-amz-target': target } }, (res) => res.resume().on('end', resolve));
        req.on('error', reject).end();
      });
    try {
      await call('Kinesis_20131202.GetRecords');
      expect(writes.seen).toBe(0);
      await call('Kinesis_20131202.PutRecords');
      expect(writes.seen).toBe(1);
    } finally {
      server.close();
    }
  });
});
