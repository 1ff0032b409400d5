import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import pg from 'pg';
import { startServices, type Services } from '../src/cloud/services';

let services: Services;
beforeAll(async () => {
  services = await startServices();
});
afterAll(() => services?.stop());

/** Clients configured only from what `env` hands out, as a function or the CLI would be. */
const aws = () => ({ region: services.env.AWS_REGION!, credentials: { accessKeyId: services.env.AWS_ACCESS_KEY_ID!, secretAccessKey: services.env.AWS_SECRET_ACCESS_KEY! } });

describe('startServices (ephemeral)', () => {
  it('hands out loopback endpoints and the environment a client needs', () => {
    for (const url of Object.values(services.endpoints)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(services.env).toMatchObject({
      AWS_REGION: 'eu-central-1', AWS_ENDPOINT_URL_S3: services.endpoints.s3, AWS_ENDPOINT_URL_DYNAMODB: services.endpoints.dynamodb,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: services.endpoints.dynamodb, AWS_ENDPOINT_URL_KINESIS: services.endpoints.kinesis,
      AWS_ENDPOINT_URL_SQS: services.endpoints.sqs, DATABASE_URL: services.postgresUrl,
    });
  });

  it('DynamoDB Local: create table, put, get', async () => {
    const db = new DynamoDBClient({ ...aws(), endpoint: services.env.AWS_ENDPOINT_URL_DYNAMODB });
    await db.send(new CreateTableCommand({
      TableName: 'round-trip', BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }));
    await db.send(new PutItemCommand({ TableName: 'round-trip', Item: { pk: { S: 'a' }, n: { N: '42' } } }));
    const { Item } = await db.send(new GetItemCommand({ TableName: 'round-trip', Key: { pk: { S: 'a' } } }));
    expect(Item).toEqual({ pk: { S: 'a' }, n: { N: '42' } });
  });

  it('s3rver: a streamed upload reads back byte for byte', async () => {
    const s3 = new S3Client({
      ...aws(), endpoint: services.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const body = randomBytes(3 * 1024 * 1024 + 7);
    await s3.send(new CreateBucketCommand({ Bucket: 'round-trip' }));
    await s3.send(new PutObjectCommand({ Bucket: 'round-trip', Key: 'dir/file.bin', Body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]), ContentLength: body.length }));
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'round-trip', Key: 'dir/file.bin' }))).Body!.transformToByteArray());
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('kinesalite: put a record and read it back', async () => {
    const kinesis = new KinesisClient({ ...aws(), endpoint: services.env.AWS_ENDPOINT_URL_KINESIS, requestHandler: new NodeHttpHandler() });
    await kinesis.send(new CreateStreamCommand({ StreamName: 'round-trip', ShardCount: 1 }));
    const { ShardId, SequenceNumber } = await kinesis.send(new PutRecordCommand({ StreamName: 'round-trip', PartitionKey: 'p', Data: Buffer.from('hello') }));
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: 'round-trip', ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const { Records } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
    expect(Records?.map((r) => [r.SequenceNumber, Buffer.from(r.Data!).toString()])).toEqual([[SequenceNumber, 'hello']]);
  });

  it('fauxqs: send and receive', async () => {
    const sqs = new SQSClient({ ...aws(), endpoint: services.env.AWS_ENDPOINT_URL_SQS });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'round-trip' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"hello":1}' }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(Messages?.map((m) => m.Body)).toEqual(['{"hello":1}']);
  });

  it('PostgreSQL: SELECT 1 on the dataharvest database', async () => {
    const db = new pg.Client({ connectionString: services.env.DATABASE_URL });
    await db.connect();
    try {
      expect((await db.query('SELECT 1 AS one, current_database() AS db')).rows).toEqual([{ one: 1, db: 'dataharvest' }]);
    } finally {
      await db.end();
    }
  });
});

describe('startServices lifecycle', () => {
  it('removes an ephemeral data dir on stop', async () => {
    const other = await startServices();
    expect(existsSync(other.dataDir)).toBe(true);
    await other.stop();
    expect(existsSync(other.dataDir)).toBe(false);
  });
});
