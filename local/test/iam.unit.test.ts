import { spawn } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { allows, permissionsOf, roleStatements, startIamProxy, type Statement } from '../src/cloud/iam/proxy';
import { UnreadableRequest } from '../src/cloud/iam/request';

const TABLE = 'arn:aws:dynamodb:eu-central-1:000000000000:table/meta';
const json = (operation: string, input: unknown, prefix = 'DynamoDB_20120810') => permissionsOf('POST', '/', { 'x-amz-target': `${prefix}.${operation}` }, Buffer.from(JSON.stringify(input)));

describe('IAM policy evaluation', () => {
  const statements: Statement[] = [
    { effect: 'Allow', actions: ['dynamodb:GetItem', 'dynamodb:Update*'], resources: [TABLE] },
    { effect: 'Allow', actions: ['s3:*'], resources: ['arn:aws:s3:::ingest/incoming/*'] },
    { effect: 'Deny', actions: ['s3:DeleteObject'], resources: ['arn:aws:s3:::ingest/incoming/keep/*'] },
  ];

  it('allows what a statement names, wildcards and case-insensitive actions included, and nothing else', () => {
    expect(allows(statements, { action: 'dynamodb:GetItem', resource: TABLE })).toBe(true);
    expect(allows(statements, { action: 'DynamoDB:updateitem', resource: TABLE })).toBe(true);
    expect(allows(statements, { action: 'dynamodb:Query', resource: TABLE })).toBe(false);
    expect(allows(statements, { action: 'dynamodb:GetItem', resource: `${TABLE}-other` })).toBe(false);
    expect(allows(statements, { action: 's3:GetObject', resource: 'arn:aws:s3:::ingest/incoming/a/b.csv' })).toBe(true);
    expect(allows(statements, { action: 's3:GetObject', resource: 'arn:aws:s3:::ingest/archive/b.csv' })).toBe(false);
  });

  it('lets an explicit Deny win over any Allow', () => {
    expect(allows(statements, { action: 's3:DeleteObject', resource: 'arn:aws:s3:::ingest/incoming/a.csv' })).toBe(true);
    expect(allows(statements, { action: 's3:DeleteObject', resource: 'arn:aws:s3:::ingest/incoming/keep/a.csv' })).toBe(false);
  });

  it('matches a literal pattern exactly, whatever characters it holds', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (raw, suffix) => {
        const resource = raw.replace(/[*?]/g, ''); // no wildcards: a literal pattern
        const only: Statement[] = [{ effect: 'Allow', actions: ['s3:GetObject'], resources: [resource] }];
        expect(allows(only, { action: 's3:GetObject', resource })).toBe(true);
        expect(allows(only, { action: 's3:GetObject', resource: resource + suffix })).toBe(suffix === '');
      }),
    );
  });

  it('lets * match any run of characters, line breaks included, and ? exactly one', () => {
    const only = (resource: string): Statement[] => [{ effect: 'Allow', actions: ['s3:GetObject'], resources: [resource] }];
    const get = (resource: string) => ({ action: 's3:GetObject', resource });
    expect(allows(only('arn:aws:s3:::b/*'), get('arn:aws:s3:::b/a\nb'))).toBe(true);
    expect(allows(only('arn:aws:s3:::b/a?c'), get('arn:aws:s3:::b/abc'))).toBe(true);
    expect(allows(only('arn:aws:s3:::b/a?c'), get('arn:aws:s3:::b/a\nc'))).toBe(true);
    expect(allows(only('arn:aws:s3:::b/a?c'), get('arn:aws:s3:::b/ac'))).toBe(false);
    expect(allows(only('arn:aws:s3:::b/a?c'), get('arn:aws:s3:::b/abbc'))).toBe(false);
  });

  it('allows a statement when any one of its resources matches', () => {
    const two: Statement[] = [{ effect: 'Allow', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::a/*', 'arn:aws:s3:::b/*'] }];
    expect(allows(two, { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' })).toBe(true);
  });

  it('reads a statement without Resource, and a policy without statements, as naming nothing', () => {
    expect(roleStatements({ Policies: [{ PolicyDocument: { Statement: { Effect: 'Allow', Action: 's3:GetObject' } } }, { PolicyName: 'empty' }] })).toEqual([
      { effect: 'Allow', actions: ['s3:GetObject'], resources: [] },
    ]);
  });

  it("reads the statements of a role's inline policies, one statement or a list", () => {
    expect(
      roleStatements({
        Policies: [
          { PolicyDocument: { Statement: { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'q' } } },
          { PolicyDocument: { Statement: [{ Effect: 'Deny', Action: ['s3:GetObject'], Resource: ['a', 'b'] }] } },
        ],
      }),
    ).toEqual([
      { effect: 'Allow', actions: ['sqs:SendMessage'], resources: ['q'] },
      { effect: 'Deny', actions: ['s3:GetObject'], resources: ['a', 'b'] },
    ]);
    expect(roleStatements(undefined)).toEqual([]);
  });
});

describe('the permissions a request needs', () => {
  it('names DynamoDB, Kinesis and SQS calls by their target, on the table, index, stream or queue', () => {
    expect(json('UpdateItem', { TableName: 'meta' })).toEqual([{ action: 'dynamodb:UpdateItem', resource: TABLE }]);
    expect(json('Query', { TableName: 'meta', IndexName: 'by-stage' })).toEqual([{ action: 'dynamodb:Query', resource: `${TABLE}/index/by-stage` }]);
    expect(json('BatchGetItem', { RequestItems: { a: {}, b: {} } }).map((p) => p.resource)).toEqual(['a', 'b'].map((t) => `arn:aws:dynamodb:eu-central-1:000000000000:table/${t}`));
    expect(json('PutRecords', { StreamName: 'events' }, 'Kinesis_20131202')).toEqual([{ action: 'kinesis:PutRecords', resource: 'arn:aws:kinesis:eu-central-1:000000000000:stream/events' }]);
    expect(json('SendMessage', { QueueUrl: 'http://127.0.0.1:1/000000000000/failures' }, 'AmazonSQS')).toEqual([
      { action: 'sqs:SendMessage', resource: 'arn:aws:sqs:eu-central-1:000000000000:failures' },
    ]);
  });

  it('names S3 calls by method, key and query; a copy also reads its source', () => {
    const s3 = (method: string, url: string, headers = {}) => permissionsOf(method, url, headers, Buffer.alloc(0));
    expect(s3('GET', '/ingest/incoming/C/a%20b.csv')).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::ingest/incoming/C/a b.csv' }]);
    expect(s3('HEAD', '/ingest/k')).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::ingest/k' }]);
    expect(s3('DELETE', '/ingest/k')).toEqual([{ action: 's3:DeleteObject', resource: 'arn:aws:s3:::ingest/k' }]);
    expect(s3('GET', '/ingest?list-type=2&prefix=incoming/')).toEqual([{ action: 's3:ListBucket', resource: 'arn:aws:s3:::ingest' }]);
    expect(s3('PUT', '/ingest/archive/C/a.csv', { 'x-amz-copy-source': '/ingest/incoming/C/a.csv?versionId=1' })).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::ingest/archive/C/a.csv' },
      { action: 's3:GetObjectVersion', resource: 'arn:aws:s3:::ingest/incoming/C/a.csv' },
    ]);
  });

  it('names DynamoDB calls without a TableName on *, and transactions per item and table', () => {
    expect(json('ListTables', {})).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
    expect(json('DescribeLimits', {})).toEqual([{ action: 'dynamodb:DescribeLimits', resource: '*' }]);
    expect(json('TransactGetItems', { TransactItems: [{ Get: { TableName: 'meta' } }, { Get: { TableName: 'other' } }] })).toEqual([
      { action: 'dynamodb:GetItem', resource: TABLE },
      { action: 'dynamodb:GetItem', resource: TABLE.replace('meta', 'other') },
    ]);
    const writes = [{ Put: { TableName: 'meta' } }, { Update: { TableName: 'meta' } }, { Delete: { TableName: 'b' } }, { ConditionCheck: { TableName: TABLE } }];
    expect(json('TransactWriteItems', { TransactItems: writes })).toEqual([
      { action: 'dynamodb:PutItem', resource: TABLE },
      { action: 'dynamodb:UpdateItem', resource: TABLE },
      { action: 'dynamodb:DeleteItem', resource: TABLE.replace('meta', 'b') },
      { action: 'dynamodb:ConditionCheckItem', resource: TABLE },
    ]);
    expect(() => json('TransactWriteItems', { TransactItems: [{ Smuggle: { TableName: 'meta' } }] })).toThrow(UnreadableRequest);
    expect(json('BatchWriteItem', { RequestItems: { meta: [{ DeleteRequest: {} }] } })).toEqual([{ action: 'dynamodb:BatchWriteItem', resource: TABLE }]);
  });

  it('names PartiQL statements by their verb on the table (or index) they name, whatever the strings say', () => {
    const statement = (Statement: string) => json('ExecuteStatement', { Statement });
    expect(statement(`SELECT * FROM "meta" WHERE pk = 'FROM "other"'`)).toEqual([{ action: 'dynamodb:PartiQLSelect', resource: TABLE }]);
    expect(statement('select * from "meta"."by-stage"')).toEqual([{ action: 'dynamodb:PartiQLSelect', resource: `${TABLE}/index/by-stage` }]);
    expect(statement(`INSERT INTO meta VALUE {'pk': 'a'}`)).toEqual([{ action: 'dynamodb:PartiQLInsert', resource: TABLE }]);
    expect(statement(`UPDATE "meta" SET stage = 'X' WHERE pk = 'a'`)).toEqual([{ action: 'dynamodb:PartiQLUpdate', resource: TABLE }]);
    expect(json('BatchExecuteStatement', { Statements: [{ Statement: `DELETE FROM "meta" WHERE pk = 'a'` }, { Statement: 'SELECT * FROM b' }] })).toEqual([
      { action: 'dynamodb:PartiQLDelete', resource: TABLE },
      { action: 'dynamodb:PartiQLSelect', resource: TABLE.replace('meta', 'b') },
    ]);
    expect(() => statement('EXPLAIN something')).toThrow(UnreadableRequest);
  });

  it('refuses a body that is not a plain JSON object rather than guess', () => {
    const raw =
      (body: Buffer, type = 'application/x-amz-json-1.0') =>
      () =>
        permissionsOf('POST', '/', { 'x-amz-target': 'DynamoDB_20120810.DeleteItem', 'content-type': type }, body);
    expect(raw(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"TableName":"meta"}')]))).toThrow(UnreadableRequest);
    expect(raw(Buffer.from([0xa1, 0x6a]), 'application/x-amz-cbor-1.1')).toThrow(UnreadableRequest);
    expect(raw(Buffer.from('null'))).toThrow(UnreadableRequest);
    expect(raw(Buffer.from(' {"TableName":"meta"}'))()).toEqual([{ action: 'dynamodb:DeleteItem', resource: TABLE }]);
  });

  it('checks an S3 key as S3 stores it and refuses dot segments the local S3 would resolve', () => {
    const s3 =
      (method: string, url: string, headers = {}) =>
      () =>
        permissionsOf(method, url, headers, Buffer.alloc(0));
    expect(s3('PUT', '/ingest/archive/%2E%2E/incoming/x')).toThrow(UnreadableRequest);
    expect(s3('PUT', '/ingest/archive%2F..%2Fincoming/x')).toThrow(UnreadableRequest);
    expect(s3('PUT', '/ingest/archive/x', { 'x-amz-copy-source': 'ingest/archive/%2e%2e/incoming/x' })).toThrow(UnreadableRequest);
    expect(s3('GET', '/ingest/archive/..x')()).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::ingest/archive/..x' }]);
  });

  it('names sub-resources by their own actions and refuses the ones it does not map', () => {
    const s3 = (method: string, url: string) => permissionsOf(method, url, {}, Buffer.alloc(0)).map((p) => p.action);
    expect(s3('GET', '/ingest/k?acl')).toEqual(['s3:GetObjectAcl']);
    expect(s3('PUT', '/ingest/k?acl')).toEqual(['s3:PutObjectAcl']);
    expect(s3('GET', '/ingest/k?tagging&versionId=3')).toEqual(['s3:GetObjectVersionTagging']);
    expect(s3('PUT', '/ingest/k?tagging')).toEqual(['s3:PutObjectTagging']);
    expect(s3('PUT', '/ingest/k?retention')).toEqual(['s3:PutObjectRetention']);
    expect(s3('GET', '/ingest/k?legal-hold')).toEqual(['s3:GetObjectLegalHold']);
    expect(s3('GET', '/ingest/k?torrent')).toEqual(['s3:GetObjectTorrent']);
    expect(s3('GET', '/ingest/k?x-id=GetObject&versionId=3')).toEqual(['s3:GetObjectVersion']);
    expect(s3('PUT', '/ingest/k?partNumber=1&uploadId=u')).toEqual(['s3:PutObject']);
    expect(s3('GET', '/ingest?policy')).toEqual(['s3:GetBucketPolicy']);
    expect(s3('GET', '/')).toEqual(['s3:ListAllMyBuckets']);
    expect(() => s3('PUT', '/ingest?replication')).toThrow(UnreadableRequest);
    expect(() => s3('GET', '/ingest/k?acl&tagging')).toThrow(UnreadableRequest);
    expect(() => s3('POST', '/ingest/k')).toThrow(UnreadableRequest);
  });

  it('names DynamoDB Streams calls on the stream, and Kinesis calls on a stream given by ARN', () => {
    const streamArn = `${TABLE}/stream/2024-01-01T00:00:00.000`;
    expect(json('GetRecords', { StreamArn: streamArn }, 'DynamoDBStreams_20120810')).toEqual([{ action: 'dynamodb:GetRecords', resource: streamArn }]);
    expect(json('ListStreams', {}, 'DynamoDBStreams_20120810')).toEqual([{ action: 'dynamodb:ListStreams', resource: '*' }]);
    const kinesis = 'arn:aws:kinesis:eu-central-1:000000000000:stream/other';
    expect(json('PutRecord', { StreamARN: kinesis, StreamName: 'events' }, 'Kinesis_20131202')).toEqual([{ action: 'kinesis:PutRecord', resource: kinesis }]);
  });

  it('names a call of another JSON service by its target, on *', () => {
    expect(json('Publish', {}, 'SNS_20100331')).toEqual([{ action: 'SNS_20100331.Publish', resource: '*' }]);
  });

  it('reads an empty body, any whitespace before the object, and JSON content types only', () => {
    const call = (body: string, type?: string) => permissionsOf('POST', '/', { 'x-amz-target': 'DynamoDB_20120810.ListTables', ...(type ? { 'content-type': type } : {}) }, Buffer.from(body));
    expect(call('')).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
    expect(call('\t\r\n {}')).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
    expect(call('{}', 'application/json; charset=utf-8')).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
    for (const type of ['application/x-amz-json-1.2', 'text/plain', 'text/application/json']) expect(() => call('{}', type)).toThrow(UnreadableRequest);
  });

  it('refuses DynamoDB batches and transactions whose tables it cannot read', () => {
    for (const [operation, input] of [
      ['BatchGetItem', {}],
      ['BatchWriteItem', { RequestItems: ['meta'] }],
      ['TransactGetItems', {}],
      ['TransactGetItems', { TransactItems: [{ Put: { TableName: 'meta' } }] }],
      ['TransactGetItems', { TransactItems: ['meta'] }],
      ['TransactWriteItems', { TransactItems: [{ Put: { TableName: 1 } }] }],
      ['ExecuteStatement', {}],
      ['BatchExecuteStatement', { Statements: 'SELECT * FROM meta' }],
    ] as const)
      expect(() => json(operation, input)).toThrow(UnreadableRequest);
  });

  it('names what it cannot read in the refusal, as UnreadableRequest', () => {
    for (const [operation, input, why] of [
      ['BatchGetItem', { RequestItems: 'meta' }, 'RequestItems is not an object'],
      ['TransactGetItems', { TransactItems: [{ Put: {} }] }, 'TransactItems[].Get is not an object'],
      ['TransactGetItems', { TransactItems: [null] }, 'an item is not an object'],
      ['TransactGetItems', { TransactItems: {} }, 'the list of items or statements is missing'],
      ['TransactWriteItems', { TransactItems: [{ Smuggle: {} }] }, 'a TransactWriteItems item is none of Put, Update, Delete, ConditionCheck'],
      ['TransactWriteItems', { TransactItems: [{ Put: {} }] }, 'an item names no TableName'],
      ['ExecuteStatement', { Statement: 1 }, 'a PartiQL statement is missing'],
      ['ExecuteStatement', { Statement: '' }, 'the PartiQL statement "" names no table'],
      ['ExecuteStatement', { Statement: '"SELECT" * FROM meta' }, 'names no table'],
      ['ExecuteStatement', { Statement: 'SELECT * FROM' }, 'the PartiQL statement "SELECT * FROM" names no table'],
      ['ExecuteStatement', { Statement: `SELECT * WHERE pk = '${'x'.repeat(80)}'` }, `the PartiQL statement "SELECT * WHERE pk = '${'x'.repeat(39)}" names no table`],
    ] as const) {
      expect(() => json(operation, input)).toThrow(expect.objectContaining({ name: 'UnreadableRequest' }));
      expect(() => json(operation, input)).toThrow(why);
    }
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]);
    expect(() => permissionsOf('POST', '/', { 'x-amz-target': 'DynamoDB_20120810.ListTables' }, body)).toThrow('the body does not start with a JSON object');
  });

  it('names the S3 request it does not map, and refuses . segments and misplaced deletes', () => {
    const s3 =
      (method: string, url: string, headers = {}) =>
      () =>
        permissionsOf(method, url, headers, Buffer.alloc(0));
    expect(s3('GET', '/')()).toEqual([{ action: 's3:ListAllMyBuckets', resource: '*' }]);
    expect(s3('POST', '/ingest/k')).toThrow('POST object is an S3 request the local IAM proxy does not map to an action');
    expect(s3('PUT', '/ingest?replication')).toThrow('PUT bucket?replication is an S3 request the local IAM proxy does not map to an action');
    expect(s3('GET', '/ingest/k?acl&tagging')).toThrow('the S3 request names more than one sub-resource (acl, tagging)');
    expect(s3('GET', '/ingest/a/./b')).toThrow('the key a/./b has a . or .. segment, which the local S3 would store under another prefix');
    expect(s3('PUT', '/ingest/b', { 'x-amz-copy-source': '/ingest/a/../b' })).toThrow('the copy source a/../b has a . or .. segment');
    for (const [method, url] of [
      ['POST', '/ingest'],
      ['POST', '/ingest/k?delete'],
      ['GET', '/ingest?delete'],
    ])
      expect(s3(method!, url!)).toThrow(UnreadableRequest);
  });

  it('names PartiQL transactions, EXISTS, dotted indexes and escaped quoted names', () => {
    expect(json('ExecuteTransaction', { TransactStatements: [{ Statement: `INSERT INTO "meta" VALUE {'pk': 'a'}` }, { Statement: `EXISTS(SELECT * FROM b WHERE pk = 'a')` }] })).toEqual([
      { action: 'dynamodb:PartiQLInsert', resource: TABLE },
      { action: 'dynamodb:PartiQLSelect', resource: TABLE.replace('meta', 'b') },
    ]);
    const statement = (Statement: string) => json('ExecuteStatement', { Statement });
    expect(statement('SELECT * FROM meta.by-stage')).toEqual([{ action: 'dynamodb:PartiQLSelect', resource: `${TABLE}/index/by-stage` }]);
    expect(statement('SELECT * FROM "me""ta"')).toEqual([{ action: 'dynamodb:PartiQLSelect', resource: TABLE.replace('meta', 'me"ta') }]);
    expect(() => statement('SELECT * WHERE 1 = 1')).toThrow('the PartiQL statement "SELECT * WHERE 1 = 1" names no table the local IAM proxy can read');
    expect(() => statement(`DELETE FROM 'meta'`)).toThrow(UnreadableRequest);
  });

  it('names S3 multi-object deletes on every key of the bucket, and reads a copy source without a version', () => {
    const s3 = (method: string, url: string, headers = {}) => permissionsOf(method, url, headers, Buffer.alloc(0));
    expect(s3('POST', '/ingest?delete')).toEqual([{ action: 's3:DeleteObject', resource: 'arn:aws:s3:::ingest/*' }]);
    expect(s3('PUT', '/ingest/b', { 'x-amz-copy-source': 'in%20box/a%20b.csv' })).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::ingest/b' },
      { action: 's3:GetObject', resource: 'arn:aws:s3:::in box/a b.csv' },
    ]);
    expect(s3('GET', '/ingest/b', { 'x-amz-copy-source': '/ingest/a' })).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::ingest/b' }]);
    expect(s3('PUT', '/ingest')).toEqual([{ action: 's3:CreateBucket', resource: 'arn:aws:s3:::ingest' }]);
  });

  it('names a secret not found by its id: a name as the ARN it would have, an ARN as it is, none as every secret', () => {
    const secret = (SecretId?: string) =>
      permissionsOf('POST', '/', { 'x-amz-target': 'secretsmanager.GetSecretValue', 'content-type': 'application/x-amz-json-1.1' }, Buffer.from(JSON.stringify({ SecretId })));
    expect(secret('db')).toEqual([{ action: 'secretsmanager:GetSecretValue', resource: 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:db' }]);
    const full = 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:db-AbCdEf';
    expect(secret(full)).toEqual([{ action: 'secretsmanager:GetSecretValue', resource: full }]);
    expect(secret()).toEqual([{ action: 'secretsmanager:GetSecretValue', resource: 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:*' }]);
  });

  it('names every Secrets Manager operation on the full ARN of the secret', () => {
    const full = 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:db-AbCdEf';
    const secret = (operation: string) =>
      permissionsOf('POST', '/', { 'x-amz-target': `secretsmanager.${operation}`, 'content-type': 'application/x-amz-json-1.1' }, Buffer.from('{"SecretId":"db"}'), (id) =>
        id === 'db' ? full : undefined,
      );
    for (const operation of ['GetSecretValue', 'DescribeSecret', 'PutSecretValue']) expect(secret(operation)).toEqual([{ action: `secretsmanager:${operation}`, resource: full }]);
  });
});

describe('the IAM proxy', () => {
  it('refuses a request it cannot read, whatever the role allows, and never passes it on', async () => {
    const { createServer } = await import('node:http');
    let reached = 0;
    const upstream = createServer((_req, res) => {
      reached += 1;
      res.end('{}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    const denied: unknown[] = [];
    const everything: Statement[] = [{ effect: 'Allow', actions: ['*'], resources: ['*'] }];
    const proxy = await startIamProxy('fn', everything, { s3: target, dynamodb: target, kinesis: target, sqs: target, sns: target, secretsmanager: target }, (r) => denied.push(r));
    try {
      const post = (type: string, body: Buffer) => fetch(proxy.endpoint, { method: 'POST', headers: { 'x-amz-target': 'Kinesis_20131202.PutRecord', 'content-type': type }, body });
      const cbor = await post('application/x-amz-cbor-1.1', Buffer.from([0xa1, 0x6a]));
      expect(cbor.status).toBe(400);
      expect(await cbor.json()).toMatchObject({ __type: expect.stringMatching(/AccessDeniedException$/), message: expect.stringContaining('application/x-amz-cbor-1.1') });
      expect((await post('application/x-amz-json-1.1', Buffer.from('{"StreamName":"events"}'))).status).toBe(200);
      expect(reached).toBe(1);
      expect(denied).toHaveLength(1);
    } finally {
      await proxy.stop();
      upstream.close();
    }
  });
});

describe('the IAM proxy with large bodies', () => {
  const MiB = 1024 * 1024;
  let upstream: Server;
  let target: string;
  let reached = 0;
  /** The emulator's open connections: each one a proxy holds to it. */
  let open = 0;
  beforeAll(async () => {
    // An emulator answering a 16 MiB object to every request.
    const object = Buffer.alloc(16 * MiB, 'x');
    upstream = createServer((req, res) => {
      reached += 1;
      req.resume();
      res.writeHead(200, { 'content-length': object.length }).end(object);
    });
    upstream.on('connection', (socket) => {
      open += 1;
      socket.on('close', () => {
        open -= 1;
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const proxyFor = (statements: Statement[]) => startIamProxy('fn', statements, { s3: target, dynamodb: target, kinesis: target, sqs: target, sns: target, secretsmanager: target }, () => undefined);
  const readOnly: Statement[] = [{ effect: 'Allow', actions: ['s3:GetObject'], resources: ['*'] }];

  it('releases the upstream answer of every caller that stops reading (a refused file read to its header only)', async () => {
    const proxy = await proxyFor(readOnly);
    try {
      const { port } = new URL(proxy.endpoint);
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path: `/ingest/incoming/CO/f${i}.csv`, headers: { host: `127.0.0.1:${port}` } }, (res) => {
            res.once('data', () => {
              res.destroy();
              resolve();
            });
          });
          req.on('error', reject).end();
        });
      }
      // Released answers are closed or back in the proxy's pool (8 idle at most); without the release every one
      // stays open for good, unread: this test's timeout.
      while (open > 8) await new Promise((r) => setTimeout(r, 50));
      expect(open).toBeLessThanOrEqual(8);
    } finally {
      await proxy.stop();
    }
  }, 30_000);

  it('refuses a 1 GiB PUT it denies without holding its body, and never passes it on: a few MiB as the SDK sends it, within 64 MiB sent unasked', async () => {
    // The proxy in a process of its own, so that its RSS is its own: it prints its endpoint, then on each line it is
    // sent its peak RSS growth since it was sent 'mark'.
    const script = `import('./local/src/cloud/iam/proxy.ts').then(async ({ startIamProxy }) => {
      const t = ${JSON.stringify(target)};
      const proxy = await startIamProxy('fn', [{ effect: 'Allow', actions: ['s3:GetObject'], resources: ['*'] }], { s3: t, dynamodb: t, kinesis: t, sqs: t, sns: t, secretsmanager: t }, () => {});
      let baseline = 0;
      let peak = 0;
      setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 5).unref();
      console.log(proxy.endpoint);
      process.stdin.on('data', (line) => {
        if (String(line).startsWith('mark')) baseline = peak = process.memoryUsage.rss();
        console.log(Math.max(peak, process.memoryUsage.rss()) - baseline);
      });
    })`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const before = reached;
    try {
      const { port } = new URL((await lines.next()).value as string);
      const chunk = Buffer.alloc(MiB, 'y');
      const put = async (mebibytes: number, asSdk = false) => {
        const headers = { host: `127.0.0.1:${port}`, 'content-length': mebibytes * MiB, ...(asSdk ? { expect: '100-continue' } : {}) };
        const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/ingest/incoming/CO/big.csv', headers });
        const status = new Promise<number>((resolve, reject) => {
          req.on('response', (res) => resolve(res.resume().statusCode ?? 0)).on('error', reject);
        });
        // Asked first, the proxy refuses before a byte of the body is sent, and the body never is.
        if (asSdk) return status.finally(() => req.destroy());
        // Sent unasked, the whole body is sent: the proxy reads it and drops it.
        const body = Readable.from(
          (function* () {
            for (let i = 0; i < mebibytes; i++) yield chunk;
          })(),
        );
        await pipeline(body, req);
        return status;
      };
      const growthOf = async (refused: () => Promise<number>) => {
        child.stdin!.write('mark\n');
        await lines.next();
        expect(await refused()).toBe(403);
        child.stdin!.write('peak\n');
        return Number((await lines.next()).value) / MiB;
      };
      // A first refusal warms the proxy's code paths and buffers; then the gigabyte, both ways.
      expect(await put(64)).toBe(403);
      // The SDK asks 100 Continue for every body of 2 MiB or more (middleware-sdk-s3's expectContinueHeader).
      expect(await growthOf(() => put(1024, true))).toBeLessThan(4);
      // V8 collects the dropped read buffers once about 64 MiB of them are out: the slack, not the body (2 GiB when
      // it was held). Refusing without reading would close a connection with unread data, whose reset can reach
      // the caller before the 403 does.
      expect(await growthOf(() => put(1024))).toBeLessThan(64);
      expect(reached).toBe(before);
    } finally {
      child.kill();
    }
  }, 60_000);

  it('refuses a request whose Host is not loopback (DNS rebinding)', async () => {
    const proxy = await proxyFor(readOnly);
    try {
      const { port } = new URL(proxy.endpoint);
      const status = await new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/ingest/k', headers: { host: 'rebind.example' } }, (res) => resolve(res.resume().statusCode ?? 0))
          .on('error', reject)
          .end();
      });
      expect(status).toBe(421);
    } finally {
      await proxy.stop();
    }
  });
});

describe('SNS requests (the query protocol, known by their signature scope)', () => {
  const TOPIC = 'arn:aws:sns:eu-central-1:000000000000:dataharvest-notifications-dev';
  const sns = (form: Record<string, string>, type = 'application/x-www-form-urlencoded; charset=utf-8') =>
    permissionsOf(
      'POST',
      '/',
      { authorization: 'AWS4-HMAC-SHA256 Credential=KEY/20261202/eu-central-1/sns/aws4_request, SignedHeaders=host, Signature=x', 'content-type': type },
      Buffer.from(new URLSearchParams(form).toString()),
    );
  const role: Statement[] = [{ effect: 'Allow', actions: ['sns:Publish'], resources: [TOPIC] }];

  it('need sns:<Action> on the topic they name, PublishBatch as sns:Publish', () => {
    expect(sns({ Action: 'Publish', TopicArn: TOPIC, Message: '{}' })).toEqual([{ action: 'sns:Publish', resource: TOPIC }]);
    expect(sns({ Action: 'PublishBatch', TopicArn: TOPIC })).toEqual([{ action: 'sns:Publish', resource: TOPIC }]);
    expect(sns({ Action: 'Publish', TargetArn: TOPIC })).toEqual([{ action: 'sns:Publish', resource: TOPIC }]);
    expect(sns({ Action: 'Unsubscribe', SubscriptionArn: `${TOPIC}:1b2c` })).toEqual([{ action: 'sns:Unsubscribe', resource: TOPIC }]);
    expect(sns({ Action: 'ListTopics' })).toEqual([{ action: 'sns:ListTopics', resource: '*' }]);
    expect(allows(role, sns({ Action: 'Publish', TopicArn: TOPIC })[0]!)).toBe(true);
    expect(allows(role, sns({ Action: 'Publish', TopicArn: `${TOPIC}-other` })[0]!)).toBe(false);
    expect(allows(role, sns({ Action: 'Subscribe', TopicArn: TOPIC })[0]!)).toBe(false);
  });

  it('are refused when their body cannot be read', () => {
    expect(() => sns({ Action: 'Publish', TopicArn: TOPIC }, 'application/json')).toThrow(UnreadableRequest);
    expect(() => sns({ TopicArn: TOPIC })).toThrow(UnreadableRequest);
  });

  it('are not mistaken for S3 requests, nor S3 requests for them', () => {
    const s3 = permissionsOf('PUT', '/bucket/key', { authorization: 'AWS4-HMAC-SHA256 Credential=KEY/20261202/eu-central-1/s3/aws4_request' }, Buffer.alloc(0));
    expect(s3[0]!.action).toBe('s3:PutObject');
  });
});
