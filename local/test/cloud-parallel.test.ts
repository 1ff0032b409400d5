import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startCloud, type LocalCloud } from '../src/cloud/index';
import { waitFor } from './event-sources-helpers';

/** A Kinesis stream of one shard read with ParallelizationFactor 4 by a function of reserved concurrency 2. */
const FIXTURE = resolve('local/test/fixtures/parallel');
const SERVERLESS = resolve('node_modules/.bin/serverless');
const FUNCTION = 'fixture-parallel-test-load';

interface Batch {
  records: Array<{ key: string; data: string }>;
  start: number;
  end: number;
}

let cloud: LocalCloud;
const logs: string[] = [];

beforeAll(async () => {
  await promisify(execFile)(SERVERLESS, ['package'], {
    cwd: join(FIXTURE, 'loader'),
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline', SLS_TELEMETRY_DISABLED: '1' },
  });
  cloud = await startCloud({ root: FIXTURE, log: (l) => logs.push(l) });
});
afterAll(() => cloud?.stop());

const batches = (): Batch[] =>
  logs
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Batch & { function?: string })
    .filter((l) => l.function === FUNCTION);

/** The most batches whose [start, end] overlapped at one moment. */
function peakOverlap(all: Batch[]): number {
  const edges = all.flatMap((b) => [
    { at: b.start, delta: 1 },
    { at: b.end, delta: -1 },
  ]);
  // An end at the same millisecond as a start is not an overlap.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let inside = 0;
  let peak = 0;
  for (const edge of edges) peak = Math.max(peak, (inside += edge.delta));
  return peak;
}

describe('a Kinesis mapping with ParallelizationFactor through the local cloud', () => {
  it('runs batches of one shard concurrently, within the reserved concurrency, each partition key in order', async () => {
    const kinesis = new KinesisClient({
      region: cloud.env.AWS_REGION!,
      credentials: { accessKeyId: cloud.env.AWS_ACCESS_KEY_ID!, secretAccessKey: cloud.env.AWS_SECRET_ACCESS_KEY! },
      endpoint: cloud.endpoints.kinesis,
      requestHandler: new NodeHttpHandler(),
    });
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
    const items = Array.from({ length: 24 }, (_, i) => ({ key: keys[i % keys.length]!, data: `${keys[i % keys.length]}:${i}` }));
    for (const { key, data } of items) await kinesis.send(new PutRecordCommand({ StreamName: 'fixture-chunks-test', PartitionKey: key, Data: Buffer.from(data) }));

    await waitFor('every record', () => batches().flatMap((b) => b.records).length >= items.length, 60_000);
    await cloud.idle({ quietMs: 500, timeoutMs: 30_000 });
    const all = batches();

    // Every record once: throttled invocations never reached the function.
    expect(all.flatMap((b) => b.records.map((r) => r.data)).sort()).toEqual(items.map((i) => i.data).sort());
    const inOrder = [...all].sort((a, b) => a.start - b.start);
    for (const key of keys) {
      const seen = inOrder.flatMap((b) => b.records.filter((r) => r.key === key).map((r) => r.data));
      expect(seen).toEqual(items.filter((i) => i.key === key).map((i) => i.data));
    }
    // More than one batch of the single shard in flight at once, never more than the reserved concurrency.
    expect(peakOverlap(all)).toBe(2);
  });
});
