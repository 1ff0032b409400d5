import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { batchKey } from '@dataharvest/shared/metastore';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import { announceCloud, type Connection, connectCloud, ingestBucket, metastoreTable } from '../../local/src/cli/connection';
import { s3Event } from '../support/s3-event';

const SAMPLE = 'examples/sample-batch';
const sampleFiles = readdirSync(SAMPLE).sort();
const sampleBytes = sampleFiles.reduce((sum, f) => sum + readFileSync(join(SAMPLE, f)).length, 0);

/** Two clients at once through the real local cloud, then `dataharvest status --clients --json` as a user runs it. */
describe('the client tracking table through real events, and status --clients', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dataharvest-tracking-'));
  let cloud: LocalCloud;
  let on: Connection;
  let forget: () => void;
  const cli = async (...args: string[]) => (await promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'status', ...args, '--data-dir', dataDir], { timeout: 60_000 })).stdout;
  // The cloud is shared: this module's clients are ALPHA_CO and BETA_CO.
  const clients = async () => (JSON.parse(await cli('--clients', '--json')) as { clients: Array<Record<string, unknown>> }).clients.filter((c) => c.client === 'ALPHA_CO' || c.client === 'BETA_CO');
  const upload = (client: string, date: string) =>
    Promise.all(
      sampleFiles.map((f) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: `incoming/${client}/${f.replace('20200130', date)}`, Body: readFileSync(join(SAMPLE, f)) }))),
    );

  async function waitForComplete(client: string, batchDate: string, timeoutMs = 120_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const batch = await on.metastore.getBatch(client, batchDate);
      if (batch?.stage === 'COMPLETE') return batch;
      if (Date.now() > until) throw new Error(`batch ${client}/${batchDate} stuck at ${batch?.stage}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The change-feed record that made the batch COMPLETE, delivered again: its item as it stood at TRANSFORMED. */
  async function replayedRecord(client: string, batchDate: string) {
    const dynamodb = new DynamoDBClient({
      region: cloud.env.AWS_REGION,
      credentials: { accessKeyId: cloud.env.AWS_ACCESS_KEY_ID!, secretAccessKey: cloud.env.AWS_SECRET_ACCESS_KEY! },
      endpoint: cloud.env.AWS_ENDPOINT_URL_DYNAMODB,
    });
    const key = batchKey(client, batchDate);
    const { Item } = await dynamodb.send(new GetItemCommand({ TableName: metastoreTable(cloud), Key: { pk: { S: key.pk }, sk: { S: key.sk } }, ConsistentRead: true }));
    dynamodb.destroy();
    const change = {
      awsRegion: cloud.env.AWS_REGION,
      eventID: 'replayed',
      eventName: 'MODIFY',
      recordFormat: 'application/json',
      tableName: metastoreTable(cloud),
      dynamodb: { ApproximateCreationDateTime: Date.now(), Keys: { pk: Item!.pk!, sk: Item!.sk! }, NewImage: { ...Item, stage: { S: 'TRANSFORMED' } }, SizeBytes: JSON.stringify(Item).length },
      eventSource: 'aws:dynamodb',
    };
    const record = {
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: key.pk, sequenceNumber: '1', data: Buffer.from(JSON.stringify(change)).toString('base64'), approximateArrivalTimestamp: Date.now() / 1000 },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: 'shardId-000000000000:1',
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
      awsRegion: cloud.env.AWS_REGION,
      eventSourceARN: `arn:aws:kinesis:${cloud.env.AWS_REGION}:000000000000:stream/dataharvest-metastore-changes-${cloud.stage}`,
    };
    return { Records: [record] };
  }

  beforeAll(async () => {
    cloud = await sharedCloud();
    forget = announceCloud(dataDir, cloud);
    on = connectCloud(cloud);
  });
  afterAll(async () => {
    forget?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows two clients uploading at once both complete, with their rows, bytes and latest complete batch', async () => {
    await Promise.all([upload('ALPHA_CO', '20200130'), upload('BETA_CO', '20200130'), upload('BETA_CO', '20200131')]);
    await Promise.all([waitForComplete('ALPHA_CO', '20200130'), waitForComplete('BETA_CO', '20200130'), waitForComplete('BETA_CO', '20200131')]);
    await cloud.idle();
    const shown = await clients();
    expect(shown.map((c) => Object.keys(c).slice(0, 6))).toEqual(Array(2).fill(['client', 'batches_in_flight', 'last_complete_batch', 'rows', 'bytes', 'failures']));
    expect(shown).toEqual([
      expect.objectContaining({ client: 'ALPHA_CO', batches_in_flight: 0, last_complete_batch: '20200130', rows: 8, bytes: sampleBytes, failures: 0, files: 4 }),
      expect.objectContaining({ client: 'BETA_CO', batches_in_flight: 0, last_complete_batch: '20200131', rows: 16, bytes: 2 * sampleBytes, failures: 0, files: 8 }),
    ]);
    expect(await cli('--clients')).toMatch(/^ALPHA_CO: 0 batch\(es\) in flight, last complete 20200130, 4 files, 8 rows/m);
  });

  it('counts nothing twice for a duplicate S3 event, a re-sent identical file or a replayed change-feed record', async () => {
    const before = await clients();
    const persistence = cloud.functions.find((f) => f.includes('persistence'))!;
    const catapult = cloud.functions.find((f) => f.includes('catapult'))!;
    const batch = await on.metastore.getBatch('ALPHA_CO', '20200130');
    const event = s3Event(ingestBucket(cloud), 'incoming/ALPHA_CO/accounts_20200130.csv', batch!.files.accounts!.etag!);
    await cloud.invoke(persistence, event);
    await cloud.invoke(persistence, event);
    await upload('ALPHA_CO', '20200130');
    expect(await cloud.invoke(catapult, await replayedRecord('ALPHA_CO', '20200130'))).toEqual({ batchItemFailures: [] });
    await cloud.idle();
    expect(await on.metastore.getBatch('ALPHA_CO', '20200130')).toMatchObject({ stage: 'COMPLETE', generation: 1 });
    expect(await clients()).toEqual(before);
  });
});
