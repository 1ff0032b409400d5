import fc from 'fast-check';
import { allows, permissionsOf, roleStatements, type Statement } from '../src/cloud/iam';

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
      { action: 's3:GetObject', resource: 'arn:aws:s3:::ingest/incoming/C/a.csv' },
    ]);
  });
});
