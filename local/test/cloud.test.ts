import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CloudError } from '../src/cloud/errors';
import { startCloud, type LocalCloud } from '../src/cloud/index';
import { CONTAINERS_PER_FUNCTION } from '../src/cloud/lambda/runtime';
import { cloudError } from '../../test/support/errors';

const FIXTURE = resolve('local/test/fixtures/cloud');
const SERVERLESS = resolve('node_modules/.bin/serverless');

/** Packages a fixture service the way `npm run package` packages the real ones (osls, offline). */
async function packageService(dir: string): Promise<void> {
  await promisify(execFile)(SERVERLESS, ['package'], {
    cwd: dir,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline', SLS_TELEMETRY_DISABLED: '1' },
  });
}

/** The JSON lines the fixture's functions logged, by function. */
const logged = (logs: string[], functionName: string) =>
  logs
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.function === functionName);

const aws = (cloud: LocalCloud) => ({ region: cloud.env.AWS_REGION!, credentials: { accessKeyId: cloud.env.AWS_ACCESS_KEY_ID!, secretAccessKey: cloud.env.AWS_SECRET_ACCESS_KEY! } });
const putItem = (cloud: LocalCloud, pk: string, kind: string) =>
  new DynamoDBClient({ ...aws(cloud), endpoint: cloud.endpoints.dynamodb }).send(new PutItemCommand({ TableName: 'fixture-table-test', Item: { pk: { S: pk }, kind: { S: kind } } }));

let cloud: LocalCloud;
const logs: string[] = [];
const progress: Array<{ kind: string; functionName: string; source: string; error?: string }> = [];
const gaveUp: Array<{ functionName: string; reason: string }> = [];

beforeAll(async () => {
  await Promise.all(['base', 'echo', 'failing'].map((s) => packageService(join(FIXTURE, s))));
  cloud = await startCloud({ root: FIXTURE, log: (l) => logs.push(l) });
  for (const kind of ['invoke', 'result', 'error'] as const) cloud.on(kind, (e) => progress.push({ kind, ...e }));
  cloud.on('gave-up', (e) => gaveUp.push(e));
});
afterAll(() => cloud?.stop());

describe('startCloud on the fixture stacks', () => {
  it('deploys in dependency order and exports outputs, custom resource attributes included', () => {
    expect(cloud.stage).toBe('test');
    expect(cloud.exports).toMatchObject({
      'fixture-test-table': 'fixture-table-test',
      'fixture-test-registered': 'yes:echo',
    });
    // The stream ARN is DynamoDB Local's own: it is what its streams API accepts.
    expect(cloud.exports['fixture-test-table-stream-arn']).toMatch(/^arn:aws:dynamodb:[\w-]+:000000000000:table\/fixture-table-test\/stream\/\d{4}-/);
    expect([...cloud.functions].sort()).toEqual(['dynamodb', 'echo', 'missing', 'register', 'slow', 'stream', 'upload'].map((f) => `fixture-echo-test-${f}`));
  });

  it('runs a function with its resolved environment, the local endpoints and a Lambda context', async () => {
    const out = (await cloud.invoke('fixture-echo-test-echo', { hello: 'world' })) as Record<string, Record<string, unknown>>;
    expect(out.event).toEqual({ hello: 'world' });
    expect(out.env).toEqual({
      TABLE: 'fixture-table-test',
      QUEUE_ARN: 'arn:aws:sqs:eu-central-1:000000000000:fixture-failures-test',
      QUEUE_URL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\/fixture-failures-test$/),
      STREAM: 'fixture-events-test',
      STACK: 'fixture-echo-test/b',
      DB_CA_FILE: cloud.postgres.caFile,
      AWS_REGION: 'eu-central-1',
      AWS_LAMBDA_FUNCTION_NAME: 'fixture-echo-test-echo',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_ENDPOINT_URL_DYNAMODB: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), // its IAM proxy
    });
    expect(out.env!.AWS_ENDPOINT_URL_DYNAMODB).not.toBe(cloud.endpoints.dynamodb);
    expect(out.context).toEqual({
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      functionName: 'fixture-echo-test-echo',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-central-1:000000000000:function:fixture-echo-test-echo',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/fixture-echo-test-echo',
      remaining: expect.any(Number),
    });
    expect(out.context!.remaining).toBeGreaterThan(9000);
    expect(out.context!.remaining).toBeLessThanOrEqual(10_000);
    const again = (await cloud.invoke('fixture-echo-test-echo', {})) as { invocations: number };
    expect(again.invocations).toBeGreaterThan(1); // a warm container
  });

  it('enforces the timeout, then serves the next invocation from a fresh container', async () => {
    const started = Date.now();
    await expect(cloud.invoke('fixture-echo-test-slow', { ms: 5000 })).rejects.toThrow('Task timed out after 1.00 seconds');
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(cloud.invoke('fixture-echo-test-slow', { ms: 1 })).resolves.toEqual({ container: expect.any(String) });
    expect(progress).toContainEqual(expect.objectContaining({ kind: 'error', functionName: 'fixture-echo-test-slow', source: 'invoke', error: 'Task timed out after 1.00 seconds' }));
  });

  it('runs at most one container per core (at least two) of a function at once, queueing the rest', async () => {
    const results = (await Promise.all(Array.from({ length: CONTAINERS_PER_FUNCTION + 3 }, () => cloud.invoke('fixture-echo-test-slow', { ms: 200 })))) as Array<{ container: string }>;
    expect(new Set(results.map((r) => r.container)).size).toBeLessThanOrEqual(CONTAINERS_PER_FUNCTION);
  });

  it("holds a function's AWS calls to its role, answering the rest with AccessDeniedException as IAM does", async () => {
    const call = (operation: string, input: unknown) => cloud.invoke('fixture-echo-test-dynamodb', { operation, input }) as Promise<{ status: number; body: Record<string, string> }>;
    const key = { pk: { S: 'iam' } };
    expect(await call('GetItem', { TableName: 'fixture-table-test', Key: key })).toEqual({ status: 200, body: {} });
    expect(await call('PutItem', { TableName: 'fixture-table-test', Item: key })).toEqual({
      status: 400,
      body: {
        __type: 'com.amazon.coral.service#AccessDeniedException',
        message: expect.stringContaining('is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:eu-central-1:000000000000:table/fixture-table-test'),
      },
    });
    expect((await call('GetItem', { TableName: 'another-table', Key: key })).status).toBe(400);
    expect(logs).toContainEqual(expect.stringContaining('fixture-echo-test-dynamodb: AccessDenied: dynamodb:PutItem on arn:aws:dynamodb:eu-central-1:000000000000:table/fixture-table-test'));
  });

  it("holds a function's use of an encrypted table to its key: a read needs kms:Decrypt, a write kms:GenerateDataKey too", async () => {
    const call = (operation: string, input: unknown) => cloud.invoke('fixture-echo-test-dynamodb', { operation, input }) as Promise<{ status: number; body: Record<string, string> }>;
    const key = { pk: { S: 'sealed' } };
    expect(await call('GetItem', { TableName: 'fixture-sealed-test', Key: key })).toEqual({ status: 200, body: {} });
    expect(await call('PutItem', { TableName: 'fixture-sealed-test', Item: key })).toEqual({
      status: 400,
      body: {
        __type: 'com.amazon.coral.service#AccessDeniedException',
        message: expect.stringContaining(`is not authorized to perform: kms:GenerateDataKey on resource: ${cloud.exports['fixture-test-sealed-key-arn']} because no identity-based policy allows`),
      },
    });
  });

  it('rejects with the function error, its type kept, and reports handlers that cannot load as Lambda does', async () => {
    await expect(cloud.invoke('fixture-echo-test-slow', { fail: true })).rejects.toMatchObject({ errorType: 'FixtureError', message: 'asked to fail' });
    await expect(cloud.invoke('fixture-echo-test-missing', {})).rejects.toMatchObject({ errorType: 'Runtime.ImportModuleError' });
    await expect(cloud.invoke('nope', {})).rejects.toThrow('function nope is not deployed');
  });

  it('invokes the function for uploads matching the bucket rule prefix and suffix, and only for those', async () => {
    const lines: Array<{ line: string; functionName?: string }> = [];
    cloud.on('log', (e) => lines.push(e));
    const s3 = new S3Client({ ...aws(cloud), endpoint: cloud.endpoints.s3, forcePathStyle: true });
    for (const key of ['in/a.csv', 'in/b.txt', 'out/c.csv', 'in/sub dir/d.csv']) {
      await s3.send(new PutObjectCommand({ Bucket: 'fixture-uploads-test', Key: key, Body: 'x' }));
    }
    await cloud.idle({ quietMs: 300, timeoutMs: 20_000 });
    // S3 notifications carry keys URL-encoded, spaces as '+'.
    expect(
      logged(logs, 'fixture-echo-test-upload')
        .map((l) => l.key)
        .sort(),
    ).toEqual(['in/a.csv', 'in/sub+dir/d.csv']);
    expect(lines.filter((l) => l.functionName === 'fixture-echo-test-upload')).toHaveLength(2);
    expect(progress).toContainEqual(expect.objectContaining({ kind: 'result', functionName: 'fixture-echo-test-upload', source: 'async' }));
  });

  it('sends a failed upload notification to the on-failure queue once its retries (none here) are used up', async () => {
    const s3 = new S3Client({ ...aws(cloud), endpoint: cloud.endpoints.s3, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: 'fixture-uploads-test', Key: 'in/fail.csv', Body: 'x' }));
    await cloud.idle({ quietMs: 300, timeoutMs: 20_000 });
    const sqs = new SQSClient({ ...aws(cloud), endpoint: cloud.endpoints.sqs });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'fixture-failures-test' }));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(Messages.map((m) => JSON.parse(m.Body!) as Record<string, Record<string, unknown>>)).toEqual([
      expect.objectContaining({
        requestContext: expect.objectContaining({ condition: 'RetriesExhausted', approximateInvokeCount: 1 }),
        responsePayload: expect.objectContaining({ errorMessage: 'cannot take in/fail.csv' }),
      }),
    ]);
    expect(gaveUp).toEqual([{ functionName: 'fixture-echo-test-upload', reason: 'cannot take in/fail.csv' }]);
  });

  it('delivers stream records through the mapping, its filter applied', async () => {
    await putItem(cloud, 'k1', 'keep');
    await putItem(cloud, 'k2', 'skip');
    await cloud.idle({ quietMs: 300, timeoutMs: 20_000 });
    expect(logged(logs, 'fixture-echo-test-stream').map((l) => l.pk)).toEqual(['k1']);
  });

  it('sends the custom resource its CloudFormation Create request on deploy', () => {
    expect(logged(logs, 'fixture-echo-test-register')).toEqual([
      {
        function: 'fixture-echo-test-register',
        requestType: 'Create',
        properties: { ServiceToken: 'arn:aws:lambda:eu-central-1:000000000000:function:fixture-echo-test-register', Name: 'echo' },
      },
    ]);
  });

  it('fails a later deploy whose custom resource answers FAILED, with the reason', async () => {
    await expect(cloud.deploy(join(FIXTURE, 'failing'))).rejects.toThrow(cloudError('fixture-failing-test: custom resource Registration failed: no registration for failing'));
  });
  it('fails a deploy the emulator refuses, in one line naming the resource', async () => {
    // A hand-written "packaged" service: templates need not come from osls.
    const dir = mkdtempSync(join(tmpdir(), 'dataharvest-broken-'));
    try {
      mkdirSync(join(dir, '.serverless'));
      writeFileSync(join(dir, '.serverless', 'serverless-state.json'), JSON.stringify({ service: { service: 'broken', provider: { stage: 'test' } } }));
      writeFileSync(
        join(dir, '.serverless', 'cloudformation-template-update-stack.json'),
        JSON.stringify({
          Resources: { Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'broken', AttributeDefinitions: [], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] } } },
        }),
      );
      const error = await cloud.deploy(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CloudError);
      expect((error as Error).message).toMatch(/^broken-test: could not create Table \(AWS::DynamoDB::Table\): [^\n]+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses at deploy what Lambda refuses: an invalid filter pattern, a reserved environment key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataharvest-refused-'));
    const deployTemplate = (Resources: Record<string, unknown>) => {
      writeFileSync(join(dir, '.serverless', 'cloudformation-template-update-stack.json'), JSON.stringify({ Resources }));
      return cloud.deploy(dir);
    };
    try {
      mkdirSync(join(dir, '.serverless'));
      writeFileSync(join(dir, '.serverless', 'serverless-state.json'), JSON.stringify({ service: { service: 'refused', provider: { stage: 'test' } } }));
      const mapping = (Pattern: string) => ({
        Mapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: { FunctionName: 'fixture-echo-test-stream', EventSourceArn: 'arn:aws:kinesis:eu-central-1:000000000000:stream/x', Enabled: false, FilterCriteria: { Filters: [{ Pattern }] } },
        },
      });
      await expect(deployTemplate(mapping('{"a": [{"numeric": [">", 1, ">", 2]}]}'))).rejects.toThrow(
        cloudError(
          'refused-test: event source mapping Mapping of function fixture-echo-test-stream: invalid filter pattern {"a": [{"numeric": [">", 1, ">", 2]}]}: numeric takes "=" alone, or at most one lower and one upper bound, got [">",1,">",2]',
        ),
      );
      const fn = {
        Type: 'AWS::Lambda::Function',
        Properties: { FunctionName: 'refused-fn', Handler: 'src/handler.echo', Code: { S3Key: 'x.zip' }, Environment: { Variables: { TABLE: 't', AWS_REGION: 'us-east-1' } } },
      };
      await expect(deployTemplate({ Fn: fn })).rejects.toThrow(cloudError('refused-test: function refused-fn sets AWS_REGION in Environment.Variables, which Lambda reserves'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('startCloud errors and restarts', () => {
  const scratch: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataharvest-cloud-'));
    chmodSync(dir, 0o755);
    scratch.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  });

  it('says in one line what to do about a missing packaged template or compose file', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'svc'));
    writeFileSync(join(root, 'serverless-compose.yml'), 'services:\n  svc:\n    path: svc\n');
    await expect(startCloud({ root })).rejects.toThrow(cloudError(`${join(root, 'svc')} is not packaged: run \`npm run package\` first`));
    await expect(startCloud({ root: join(root, 'svc') })).rejects.toThrow(cloudError(`no serverless-compose.yml in ${join(root, 'svc')}: run from the repository root`));
    writeFileSync(join(root, 'svc', 'serverless-compose.yml'), 'services: [\n');
    await expect(startCloud({ root: join(root, 'svc') })).rejects.toThrow(/^.*serverless-compose\.yml is not valid YAML: .+$/);
  });

  it('stops the start-up cleanly when one of the stacks deploying at once fails, deploying nothing that depends on it', async () => {
    const root = tempDir();
    const dataDir = join(root, '.dataharvest');
    // base and failing depend on nothing, so they deploy at once; echo waits for both.
    writeFileSync(
      join(root, 'serverless-compose.yml'),
      ['services:', ...['base', 'failing'].map((s) => `  ${s}:\n    path: ${join(FIXTURE, s)}`), `  echo:\n    path: ${join(FIXTURE, 'echo')}\n    dependsOn: [base, failing]`].join('\n'),
    );
    const lines: string[] = [];
    await expect(startCloud({ root, dataDir, log: (l) => lines.push(l) })).rejects.toThrow(cloudError('fixture-failing-test: custom resource Registration failed: no registration for failing'));
    expect(logged(lines, 'fixture-echo-test-register')).toEqual([]);
    // Stopped: the data dir is no longer held.
    expect(existsSync(join(dataDir, 'cloud.lock'))).toBe(false);
  });

  it('redeploys onto a persistent data dir without replaying stream records already delivered', async () => {
    const dataDir = join(tempDir(), '.dataharvest');
    const first: string[] = [];
    let persistent = await startCloud({ root: FIXTURE, dataDir, log: (l) => first.push(l) });
    try {
      await putItem(persistent, 'p1', 'keep');
      await persistent.idle({ quietMs: 300, timeoutMs: 20_000 });
      expect(logged(first, 'fixture-echo-test-stream').map((l) => l.pk)).toEqual(['p1']);
    } finally {
      await persistent.stop();
    }
    const second: string[] = [];
    persistent = await startCloud({ root: FIXTURE, dataDir, log: (l) => second.push(l) });
    try {
      await putItem(persistent, 'p2', 'keep');
      await persistent.idle({ quietMs: 300, timeoutMs: 20_000 });
      expect(logged(second, 'fixture-echo-test-stream').map((l) => l.pk)).toEqual(['p2']);
      expect(persistent.exports['fixture-test-registered']).toBe('yes:echo');
    } finally {
      await persistent.stop();
    }
  });
});
