import { allows, decide, resourcePolicyStatements, roleStatements, type Statement, UnsupportedPolicy } from '../src/cloud/iam/proxy';
import { bucketPolicyStatements, deniedByBucketPolicy, s3RequestContext } from '../src/cloud/iam/bucket-policy';
import { conditionsHold, substitute, UnsupportedCondition } from '../src/cloud/iam/conditions';

const put = (key: string) => ({ action: 's3:PutObject', resource: `arn:aws:s3:::ingest/${key}` });
const tagged = (client: string) => ({ 'aws:PrincipalTag/client': client });

describe('IAM condition operators', () => {
  it('StringEquals and StringLike match case-sensitively, any listed value (OR), every key and operator (AND)', () => {
    const c = { StringEquals: { 's3:x-amz-acl': ['private', 'bucket-owner-full-control'] }, StringLike: { 's3:prefix': 'incoming/*' } };
    expect(conditionsHold(c, { 's3:x-amz-acl': 'private', 's3:prefix': 'incoming/A/' })).toBe(true);
    expect(conditionsHold(c, { 's3:x-amz-acl': 'Private', 's3:prefix': 'incoming/A/' })).toBe(false);
    expect(conditionsHold(c, { 's3:x-amz-acl': 'private', 's3:prefix': 'archive/' })).toBe(false);
    // Condition keys are case-insensitive.
    expect(conditionsHold({ StringEquals: { 'S3:X-Amz-Acl': 'private' } }, { 's3:x-amz-acl': 'private' })).toBe(true);
  });

  it('reads an absent key as false, but true for negated operators, IfExists and ForAllValues', () => {
    expect(conditionsHold({ StringEquals: { k: 'v' } }, {})).toBe(false);
    expect(conditionsHold({ StringNotEquals: { k: 'v' } }, {})).toBe(true);
    expect(conditionsHold({ StringNotEqualsIfExists: { k: 'AES256' } }, {})).toBe(true);
    expect(conditionsHold({ StringNotEqualsIfExists: { k: 'AES256' } }, { k: 'AES256' })).toBe(false);
    expect(conditionsHold({ StringNotEqualsIfExists: { k: 'AES256' } }, { k: 'aws:kms' })).toBe(true);
    expect(conditionsHold({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['client'] } }, {})).toBe(true);
    expect(conditionsHold({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['client'] } }, { 'aws:TagKeys': ['client', 'admin'] })).toBe(false);
    expect(conditionsHold({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['client'] } }, {})).toBe(false);
  });

  it('Bool and Null test a value and a presence', () => {
    expect(conditionsHold({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'false' })).toBe(true);
    expect(conditionsHold({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'true' })).toBe(false);
    expect(conditionsHold({ Null: { k: 'false' } }, { k: 'AES256' })).toBe(true);
    expect(conditionsHold({ Null: { k: 'false' } }, {})).toBe(false);
    expect(conditionsHold({ Null: { k: 'true' } }, {})).toBe(true);
  });

  it('refuses an operator it does not evaluate rather than guess', () => {
    expect(() => conditionsHold({ NumericLessThan: { 's3:TlsVersion': '1.2' } }, {})).toThrow(UnsupportedCondition);
    expect(() => conditionsHold({ NullIfExists: { k: 'true' } }, {})).toThrow(UnsupportedCondition);
  });
});

describe('IAM policy variables', () => {
  it("substitute the request's value, or leave the pattern matching nothing when it has none", () => {
    expect(substitute('incoming/${aws:PrincipalTag/client}/*', tagged('A'))).toBe('incoming/A/*');
    expect(substitute('incoming/${aws:PrincipalTag/client}/*', {})).toBeUndefined();
    expect(substitute('a${*}b${$}', {})).toBe('a*b$');
  });

  it("scope a resource to the principal's tag, a wildcard in the tag's value matching only itself", () => {
    const own: Statement[] = [{ effect: 'Allow', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::ingest/incoming/${aws:PrincipalTag/client}/*'] }];
    expect(allows(own, put('incoming/A/accounts_20250101.csv'), tagged('A'))).toBe(true);
    expect(allows(own, put('incoming/B/accounts_20250101.csv'), tagged('A'))).toBe(false);
    expect(allows(own, put('incoming/A/x.csv'), {})).toBe(false);
    expect(allows(own, put('incoming/B/x.csv'), tagged('*'))).toBe(false);
    expect(allows(own, put('incoming/*/x.csv'), tagged('*'))).toBe(true);
  });

  it('without a request context leave conditions unevaluated, as the function proxies have always read roles', () => {
    const conditional = roleStatements({
      Policies: [{ PolicyDocument: { Statement: { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::ingest', Condition: { StringLike: { 's3:prefix': 'incoming/*' } } } } }],
    });
    expect(allows(conditional, { action: 's3:ListBucket', resource: 'arn:aws:s3:::ingest' })).toBe(true);
    expect(allows(conditional, { action: 's3:ListBucket', resource: 'arn:aws:s3:::ingest' }, { 's3:prefix': 'archive/' })).toBe(false);
  });
});

describe('resource policies', () => {
  const policy = resourcePolicyStatements({
    Statement: [
      { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::ingest', 'arn:aws:s3:::ingest/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::ingest/*' },
    ],
  });
  const principal = 'arn:aws:sts::000000000000:assumed-role/R/s';

  it("let an explicit Deny win over the identity's Allow, and an Allow for the account grant within it", () => {
    const everything: Statement[] = [{ effect: 'Allow', actions: ['s3:*'], resources: ['*'] }];
    const request = (secure: string, identity = everything, permission = put('incoming/A/x.csv')) =>
      decide({ principal, identity, resourcePolicy: policy, permission, context: { 'aws:SecureTransport': secure } });
    expect(request('true')).toBe(true);
    expect(request('false')).toBe(false);
    expect(request('true', [], { action: 's3:GetObject', resource: 'arn:aws:s3:::ingest/k' })).toBe(true);
    expect(request('true', [], put('k'))).toBe(false);
    expect(
      decide({ principal: 'arn:aws:sts::111111111111:assumed-role/R/s', identity: [], resourcePolicy: policy, permission: { action: 's3:GetObject', resource: 'arn:aws:s3:::ingest/k' }, context: {} }),
    ).toBe(false);
  });

  it('refuse what they would invert if read as its positive twin', () => {
    expect(() => resourcePolicyStatements({ Statement: { Effect: 'Deny', NotPrincipal: { AWS: 'x' }, Action: 's3:*', Resource: '*' } })).toThrow(UnsupportedPolicy);
    expect(() => resourcePolicyStatements({ Statement: { Effect: 'Deny', Principal: { Federated: 'x' }, Action: 's3:*', Resource: '*' } })).toThrow(UnsupportedPolicy);
    expect(() => resourcePolicyStatements({ Statement: { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*', NotResource: 'x' } })).toThrow(UnsupportedPolicy);
  });

  it('read a service principal as one no local requester is, and NotResource as every resource but those', () => {
    const [service] = resourcePolicyStatements({ Statement: { Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: '*' } });
    expect(service!.principals).toEqual(['service:logging.s3.amazonaws.com']);
    const policy = resourcePolicyStatements({ Statement: { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', NotResource: 'arn:aws:s3:::b/incoming/${aws:PrincipalTag/c}/*' } });
    const admin = [{ effect: 'Allow' as const, actions: ['*'], resources: ['*'] }];
    const put = (key: string, context: Record<string, string>) =>
      decide({ principal: 'arn:aws:sts::000000000000:assumed-role/R/s', identity: admin, resourcePolicy: policy, permission: { action: 's3:PutObject', resource: `arn:aws:s3:::b/${key}` }, context });
    expect(put('incoming/A/x', { 'aws:PrincipalTag/c': 'A' })).toBe(true);
    expect(put('incoming/B/x', { 'aws:PrincipalTag/c': 'A' })).toBe(false);
    // Without the tag the excluded folder is no folder: every put is denied.
    expect(put('incoming/A/x', {})).toBe(false);
  });
});

describe('bucket policies in the local cloud', () => {
  const deny = (Condition: unknown, Effect = 'Deny') => ({ Statement: [{ Effect, Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::ingest/*', Condition }] });

  it('are refused at deploy when the function proxies could not enforce them as S3 does', () => {
    expect(() => bucketPolicyStatements('stack: bucket policy P', deny({ NumericLessThan: { 's3:TlsVersion': '1.2' } }))).toThrow(/stack: bucket policy P: .*NumericLessThan/);
    expect(() => bucketPolicyStatements('P', deny({ StringEquals: { 's3:x-amz-acl': 'public-read' } }))).toThrow(/s3:x-amz-acl cannot be judged/);
    expect(() => bucketPolicyStatements('P', deny(undefined, 'Allow'))).toThrow(/Allow statement/);
  });

  it("deny a function's put that names another encryption, and nothing else", () => {
    const statements = bucketPolicyStatements('P', deny({ StringNotEquals: { 's3:x-amz-server-side-encryption': 'AES256' }, Null: { 's3:x-amz-server-side-encryption': 'false' } }));
    const principal = 'arn:aws:sts::000000000000:assumed-role/R/f';
    const denied = (headers: Record<string, string>, permission = put('archive/x.csv')) => deniedByBucketPolicy(permission, principal, s3RequestContext(principal, headers), () => statements);
    expect(denied({ 'x-amz-server-side-encryption': 'aws:kms' })).toBe(true);
    expect(denied({ 'x-amz-server-side-encryption': 'AES256' })).toBe(false);
    expect(denied({})).toBe(false);
    expect(denied({ 'x-amz-server-side-encryption': 'aws:kms' }, { action: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:eu-central-1:000000000000:table/t' })).toBe(false);
  });
});
