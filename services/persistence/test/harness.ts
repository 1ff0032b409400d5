import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type pg from 'pg';
import type { AwsClients } from '@dataharvest/shared/aws';
import { createMetastore, type Metastore } from '@dataharvest/shared/metastore';
// The services' pool maker: NUMERIC and DATE come back as text, as every service reads them.
import { newPool } from '@dataharvest/shared/pg';
import { startServices, type Services } from '../../../local/src/cloud/emulators/services';
import { testAws, testClients, testDatabase } from '../../../test/support/clients';
import { createHandler } from '../src/handler';
import { s3Event as s3EventOf } from '../../../test/support/s3-event';
import { PgProxy } from './pg-proxy';

export const BUCKET = 'dataharvest-ingest-test';
/** Files of this client load leniently (LENIENT_CLIENTS). */
export const LENIENT_CLIENT = 'LENIENT_CO';
const METASTORE_TABLE = 'dataharvest-metastore-test';

export interface Harness {
  services: Services;
  /** PostgreSQL as the function sees it: through a relay that tests can take down. */
  proxy: PgProxy;
  db: pg.Pool;
  aws: AwsClients;
  metastore: Metastore;
  /** The persistence handler, invoked as Lambda would. */
  invoke(event: unknown): Promise<unknown>;
  /** Puts an object into incoming/ and returns the event S3 would send for it. */
  upload(key: string, body: string | Buffer): Promise<ReturnType<typeof s3Event>>;
  exists(key: string): Promise<boolean>;
  readJson(key: string): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Real emulators (s3rver, DynamoDB Local, embedded PostgreSQL) with the tables and bucket the stacks declare, and
 * the handler built on clients that reach them, as its function's environment would build it.
 */
export async function startHarness(): Promise<Harness> {
  const services = await startServices();
  const real = new URL(services.postgresUrl);
  const proxy = new PgProxy({ host: real.hostname, port: Number(real.port) });
  await proxy.start();
  const aws = testClients(services);
  const dynamodb = new DynamoDBClient({ ...testAws(services), endpoint: services.endpoints.dynamodb });
  // As metastore/serverless.yml declares them.
  await dynamodb.send(
    new CreateTableCommand({
      TableName: METASTORE_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-stage',
          Projection: { ProjectionType: 'ALL' },
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
        },
      ],
    }),
  );
  await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const db = newPool({ connectionString: services.postgresUrl, max: 6 });
  const metastore = createMetastore(aws.dynamo, METASTORE_TABLE);
  // The function's database is reached through the relay, which tests can take down.
  const database = testDatabase(services, aws, { port: proxy.port });
  const handler = createHandler({
    metastore,
    database,
    s3: aws.s3,
    kinesis: aws.kinesis,
    // The deployed default: every file of these tests is smaller, so none is handed to the chunk loaders (whose path
    // the cloud tests cover, test/chunked-load.test.ts).
    chunking: { chunkSize: 64 * 2 ** 20, stream: 'dataharvest-chunks-test', lanes: 4 },
    lenientClients: new Set([LENIENT_CLIENT]),
  });
  return {
    services,
    proxy,
    db,
    aws,
    metastore,
    invoke: (event) => handler(event, lambdaContext()),
    async upload(key, body) {
      const out = await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }));
      return s3Event(key, (out.ETag ?? '').replaceAll('"', ''));
    },
    exists: (key) =>
      aws.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(
        () => true,
        () => false,
      ),
    async readJson(key) {
      const out = await aws.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return JSON.parse(await out.Body!.transformToString());
    },
    async stop() {
      await database.end();
      dynamodb.destroy();
      await db.end();
      await proxy.stop();
      await services.stop();
    },
  };
}

/** The event S3 sends for one new object of the test bucket. */
export const s3Event = (key: string, eTag: string) => s3EventOf(BUCKET, key, eTag);

let invocation = 0;
/** A Lambda context as the runtime hands it to the function. */
function lambdaContext(): Context {
  invocation++;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'dataharvest-persistence-test-persist',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-central-1:000000000000:function:dataharvest-persistence-test-persist',
    memoryLimitInMB: '512',
    awsRequestId: `request-${invocation}`,
    logGroupName: '/aws/lambda/persist',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 900_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A slice's rows as PostgreSQL holds them, in record order. */
export async function sliceRows(db: pg.Pool, type: string, client: string, isoDate: string): Promise<Array<Record<string, unknown>>> {
  const out = await db.query(`SELECT * FROM ${type} WHERE client = $1 AND batch_date = $2 ORDER BY record_id`, [client, isoDate]);
  return out.rows as Array<Record<string, unknown>>;
}
