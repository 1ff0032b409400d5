import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import pg from 'pg';
import { startPostgres } from '../src/cloud/emulators/postgres';
import { SHARED_DYNAMODB_PORT, startServices, type Services } from '../src/cloud/emulators/services';
import { cloudError } from '../../test/support/errors';

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
      AWS_REGION: 'eu-central-1',
      AWS_ENDPOINT_URL_S3: services.endpoints.s3,
      AWS_ENDPOINT_URL_DYNAMODB: services.endpoints.dynamodb,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: services.endpoints.dynamodb,
      AWS_ENDPOINT_URL_KINESIS: services.endpoints.kinesis,
      AWS_ENDPOINT_URL_SQS: services.endpoints.sqs,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: services.endpoints.secretsmanager,
      DB_CA_FILE: services.postgres.caFile,
    });
  });

  it('DynamoDB Local: create table, put, get', async () => {
    const db = new DynamoDBClient({ ...aws(), endpoint: services.env.AWS_ENDPOINT_URL_DYNAMODB });
    await db.send(
      new CreateTableCommand({
        TableName: 'round-trip',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await db.send(new PutItemCommand({ TableName: 'round-trip', Item: { pk: { S: 'a' }, n: { N: '42' } } }));
    const { Item } = await db.send(new GetItemCommand({ TableName: 'round-trip', Key: { pk: { S: 'a' } } }));
    expect(Item).toEqual({ pk: { S: 'a' }, n: { N: '42' } });
  });

  it("DynamoDB Local shared by the run's ephemeral clouds: each sees its own tables, whatever key and Region its callers sign with", async () => {
    // The suite starts one DynamoDB Local for all its clouds (test/support/global-setup.mjs).
    expect(Number(process.env[SHARED_DYNAMODB_PORT])).toBeGreaterThan(0);
    const other = await startServices();
    try {
      const client = (endpoint: string, accessKeyId: string, region: string) => new DynamoDBClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey: 'x' } });
      const mine = client(services.endpoints.dynamodb, 'CLI', 'us-east-1');
      const theirs = client(other.endpoints.dynamodb, services.env.AWS_ACCESS_KEY_ID!, services.env.AWS_REGION!);
      await mine.send(
        new CreateTableCommand({
          TableName: 'one-cloud-only',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      const tables = async (db: DynamoDBClient) => (await db.send(new ListTablesCommand({}))).TableNames ?? [];
      // Another key and Region on the same cloud: the same database, as one DynamoDB Local of its own with -sharedDb.
      expect(await tables(client(services.endpoints.dynamodb, services.env.AWS_ACCESS_KEY_ID!, services.env.AWS_REGION!))).toContain('one-cloud-only');
      expect(await tables(theirs)).not.toContain('one-cloud-only');
    } finally {
      await other.stop();
    }
  });

  it('s3rver: a streamed upload reads back byte for byte', async () => {
    const s3 = new S3Client({
      ...aws(),
      endpoint: services.env.AWS_ENDPOINT_URL_S3,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
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

  it('every endpoint refuses a Host that is not loopback (DNS rebinding), and serves loopback ones', async () => {
    const status = (endpoint: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const { port } = new URL(endpoint);
        request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { host, 'content-type': 'application/x-amz-json-1.0' } }, (res) => resolve(res.resume().statusCode ?? 0))
          .on('error', reject)
          .end('{}');
      });
    for (const [name, endpoint] of Object.entries(services.endpoints)) {
      expect([name, await status(endpoint, 'rebind.example')]).toEqual([name, 421]);
      expect([name, await status(endpoint, `localhost:${new URL(endpoint).port}`)]).not.toEqual([name, 421]);
    }
  });

  it('PostgreSQL: SELECT 1 on the dataharvest database', async () => {
    const db = new pg.Client({ connectionString: services.postgresUrl });
    await db.connect();
    try {
      expect((await db.query('SELECT 1 AS one, current_database() AS db')).rows).toEqual([{ one: 1, db: 'dataharvest' }]);
    } finally {
      await db.end();
    }
  });
});

describe('startServices lifecycle', () => {
  const dirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataharvest-test-'));
    chmodSync(dir, 0o755); // PostgreSQL runs as `postgres` when the tests run as root
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('makes a new cluster a copy of the first one initdb made on this machine, which the server writes to (postgres-template.ts)', async () => {
    // This file's first cloud made one, or found one: a new cluster is that cluster, its system identifier included.
    const clusters = [scratch(), scratch()];
    const identifiers: string[] = [];
    for (const dir of clusters) {
      const server = await startPostgres(dir, false, () => undefined);
      try {
        const db = new pg.Client({ connectionString: server.url });
        await db.connect();
        identifiers.push((await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!.id);
        await db.query('CREATE TABLE written (n int)');
        await db.end();
      } finally {
        await server.stop();
      }
    }
    // initdb gives every cluster an identifier of its own.
    expect(identifiers[1]).toBe(identifiers[0]);
  });

  it('removes an ephemeral data dir on stop, and stop twice is harmless', async () => {
    const other = await startServices();
    expect(existsSync(other.dataDir)).toBe(true);
    await Promise.all([other.stop(), other.stop()]);
    expect(existsSync(other.dataDir)).toBe(false);
  });

  // Offered the run's DynamoDB Local, a data dir's cloud keeps its tables there under a name kept in the dir; with a
  // JVM of its own, in the dir's files.
  it.each([
    ['offered', false],
    ['of its own', true],
  ])('keeps data across restarts in a data dir (DynamoDB Local %s), and refuses a second cloud on it while the first runs', async (_, ownDynamoDb) => {
    const dataDir = join(scratch(), '.dataharvest');
    const first = await startServices({ dataDir, ownDynamoDb });
    const db = () => new DynamoDBClient({ ...aws(), endpoint: first.endpoints.dynamodb });
    const s3 = (endpoint: string) => new S3Client({ ...aws(), endpoint, forcePathStyle: true });
    try {
      await expect(startServices({ dataDir })).rejects.toThrow(cloudError(`${dataDir} is in use by a running local cloud (this process): stop it, or pass --data-dir for another one`));
      await db().send(
        new CreateTableCommand({
          TableName: 'kept',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      await db().send(new PutItemCommand({ TableName: 'kept', Item: { pk: { S: 'a' } } }));
      await s3(first.endpoints.s3).send(new CreateBucketCommand({ Bucket: 'kept' }));
      await s3(first.endpoints.s3).send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'v' }));
      await new KinesisClient({ ...aws(), endpoint: first.endpoints.kinesis, requestHandler: new NodeHttpHandler() }).send(new CreateStreamCommand({ StreamName: 'kept', ShardCount: 1 }));
      const sql = new pg.Client({ connectionString: first.postgresUrl });
      await sql.connect();
      await sql.query('CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)');
      await sql.end();
    } finally {
      await first.stop();
    }

    const second = await startServices({ dataDir, ownDynamoDb });
    try {
      const { Item } = await new DynamoDBClient({ ...aws(), endpoint: second.endpoints.dynamodb }).send(new GetItemCommand({ TableName: 'kept', Key: { pk: { S: 'a' } } }));
      expect(Item).toEqual({ pk: { S: 'a' } });
      const object = await s3(second.endpoints.s3).send(new GetObjectCommand({ Bucket: 'kept', Key: 'k' }));
      expect(await object.Body!.transformToString()).toBe('v');
      const kinesis = new KinesisClient({ ...aws(), endpoint: second.endpoints.kinesis, requestHandler: new NodeHttpHandler() });
      await expect(kinesis.send(new PutRecordCommand({ StreamName: 'kept', PartitionKey: 'p', Data: Buffer.from('x') }))).resolves.toBeDefined();
      const sql = new pg.Client({ connectionString: second.postgresUrl });
      await sql.connect();
      expect((await sql.query('SELECT v FROM kept')).rows).toEqual([{ v: 7 }]);
      await sql.end();
    } finally {
      await second.stop();
    }
    expect(existsSync(dataDir)).toBe(true);
  });

  it("gives a reset data dir new tables in the offered DynamoDB Local, and refuses it an outage, which would take down the run's", async () => {
    const dataDir = join(scratch(), '.dataharvest');
    const tables = async (cloud: Services) => (await new DynamoDBClient({ ...aws(), endpoint: cloud.endpoints.dynamodb }).send(new ListTablesCommand({}))).TableNames;
    const first = await startServices({ dataDir });
    try {
      await new DynamoDBClient({ ...aws(), endpoint: first.endpoints.dynamodb }).send(
        new CreateTableCommand({
          TableName: 'before-reset',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      expect(await tables(first)).toEqual(['before-reset']);
      await expect(first.dynamodbOutage(10)).rejects.toThrow(cloudError('a DynamoDB Local outage needs a cloud with a DynamoDB Local of its own: this one uses the one it was offered'));
    } finally {
      await first.stop();
    }
    rmSync(dataDir, { recursive: true });
    const second = await startServices({ dataDir });
    try {
      expect(await tables(second)).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it('says in one line when a fixed port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startServices({ ports: { kinesis: port } })).rejects.toThrow(cloudError(`port ${port} for Kinesis is taken: stop whatever listens on it, or choose another port`));
    } finally {
      blocker.close();
    }
  });

  it('says how to install Java when there is none', async () => {
    // child_process reads the real environment, not jest's copy: the check runs in a process whose PATH has no java.
    const script = `import('./local/src/cloud/emulators/dynamodb.ts').then((m) => m.startDynamoDb(undefined, () => {})).catch((e) => console.log(e.constructor.name, e.message))`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], { env: { PATH: scratch() } });
    expect(stdout.trim()).toBe('CloudError DynamoDB Local needs Java 17+: install a JDK (apt-get install openjdk-17-jre-headless)');
  });

  it('names the file to delete when a PostgreSQL of an earlier cloud still holds the data dir', async () => {
    const dir = scratch();
    mkdirSync(join(dir, 'postgres'));
    writeFileSync(join(dir, 'postgres', 'postmaster.pid'), `${process.pid}\n${dir}\n`);
    await expect(startPostgres(dir, true, () => undefined)).rejects.toThrow(
      cloudError(
        `PostgreSQL (pid ${process.pid}) still runs on ${join(dir, 'postgres')}, left by an earlier cloud: stop it (kill ${process.pid}), or delete ${join(dir, 'postgres', 'postmaster.pid')} if that pid is not PostgreSQL, or delete ${dir}`,
      ),
    );
  });
});
