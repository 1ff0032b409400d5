import { decide, resourcePolicyStatements, roleStatements, type Statement, allows } from '../local/src/cloud/iam/proxy';
import type { RequestContext } from '../local/src/cloud/iam/conditions';
import { ACCOUNT } from '../local/src/cloud/account';
import { loadStack, Resolver, type Physical } from '../local/src/cloud/cloudformation/template';

/**
 * Client isolation (docs/security.md), judged by the project's IAM evaluator on the packaged persistence template:
 * an upload session tagged `client=A` may write incoming/A/ only, over TLS, under the bucket's encryption.
 */
const stack = loadStack('services/persistence');
const resources = stack.template.Resources;
const bucket = String((stack.template.Outputs!.IngestBucketName as { Value: unknown }).Value);
const ingestKey = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/ingest`;
const resolver = new Resolver(stack, new Map<string, Physical>([['S3BucketIngest', { ref: bucket, attributes: { Arn: `arn:aws:s3:::${bucket}` } }]]), {
  [`dataharvest-${stack.stage}-ingest-key-arn`]: ingestKey,
});
const properties = (id: string) => resolver.resolve(resources[id]!.Properties) as Record<string, unknown>;

const uploader = roleStatements(properties('UploaderRole'));
const bucketPolicy = resourcePolicyStatements((properties('IngestBucketPolicy') as { PolicyDocument: { Statement: unknown } }).PolicyDocument);
const principal = `arn:aws:sts::${ACCOUNT}:assumed-role/dataharvest-uploader-${stack.stage}/broker-session`;
const object = (key: string) => `arn:aws:s3:::${bucket}/${key}`;
const session = (client: string, extra: RequestContext = {}): RequestContext => ({ 'aws:PrincipalTag/client': client, 'aws:SecureTransport': 'true', ...extra });
const may = (identity: Statement[], action: string, key: string, context: RequestContext) =>
  decide({ principal, identity, resourcePolicy: bucketPolicy, permission: { action, resource: object(key) }, context });

describe('the uploader role and the ingest bucket policy', () => {
  it("let a session tagged with a client put and abort uploads under that client's incoming/ folder", () => {
    expect(may(uploader, 's3:PutObject', 'incoming/A/accounts_20250101.csv', session('A'))).toBe(true);
    expect(may(uploader, 's3:AbortMultipartUpload', 'incoming/A/accounts_20250101.csv', session('A'))).toBe(true);
    expect(may(uploader, 's3:PutObject', 'incoming/A/accounts_20250101.csv', session('A', { 's3:x-amz-server-side-encryption': 'aws:kms' }))).toBe(true);
    expect(may(uploader, 's3:PutObject', 'incoming/A/accounts_20250101.csv', session('A', { 's3:x-amz-server-side-encryption-aws-kms-key-id': ingestKey }))).toBe(true);
  });

  it("refuse it another client's folder, a prefix of its own name, every other folder and every other action", () => {
    expect(may(uploader, 's3:PutObject', 'incoming/B/accounts_20250101.csv', session('A'))).toBe(false);
    expect(may(uploader, 's3:PutObject', 'incoming/AB/accounts_20250101.csv', session('A'))).toBe(false);
    expect(may(uploader, 's3:PutObject', 'incoming/accounts_20250101.csv', session('A'))).toBe(false);
    for (const key of ['archive/A/x.csv', 'errors/A/x.csv', 'quarantine/A/x.csv']) expect(may(uploader, 's3:PutObject', key, session('A'))).toBe(false);
    for (const action of ['s3:GetObject', 's3:DeleteObject', 's3:PutObjectAcl', 's3:ListBucket']) expect(may(uploader, action, 'incoming/A/x.csv', session('A'))).toBe(false);
    // A session without the tag has no folder at all.
    expect(may(uploader, 's3:PutObject', 'incoming/A/x.csv', { 'aws:SecureTransport': 'true' })).toBe(false);
  });

  it('deny every principal plain HTTP, another encryption or KMS key and customer-provided keys, whatever its role allows', () => {
    const admin: Statement[] = [{ effect: 'Allow', actions: ['s3:*'], resources: ['*'] }];
    expect(may(admin, 's3:GetObject', 'archive/A/x.csv', { 'aws:SecureTransport': 'true' })).toBe(true);
    expect(may(admin, 's3:GetObject', 'archive/A/x.csv', { 'aws:SecureTransport': 'false' })).toBe(false);
    expect(
      decide({ principal, identity: admin, resourcePolicy: bucketPolicy, permission: { action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}` }, context: { 'aws:SecureTransport': 'false' } }),
    ).toBe(false);
    expect(may(uploader, 's3:PutObject', 'incoming/A/x.csv', session('A', { 'aws:SecureTransport': 'false' }))).toBe(false);
    expect(may(uploader, 's3:PutObject', 'incoming/A/x.csv', session('A', { 's3:x-amz-server-side-encryption': 'AES256' }))).toBe(false);
    expect(may(uploader, 's3:PutObject', 'incoming/A/x.csv', session('A', { 's3:x-amz-server-side-encryption-aws-kms-key-id': `${ingestKey}-other` }))).toBe(false);
    expect(may(uploader, 's3:PutObject', 'incoming/A/x.csv', session('A', { 's3:x-amz-server-side-encryption-customer-algorithm': 'AES256' }))).toBe(false);
  });

  it('trust only the upload broker, and only when it tags the session with a client and nothing else', () => {
    const trust = resourcePolicyStatements((properties('UploaderRole') as { AssumeRolePolicyDocument: { Statement: unknown } }).AssumeRolePolicyDocument).map((s) => ({ ...s, resources: ['*'] }));
    expect(trust.flatMap((s) => s.principals)).toEqual([`arn:aws:iam::${ACCOUNT}:root`]);
    const broker = `arn:aws:iam::${ACCOUNT}:role/dataharvest-upload-broker-${stack.stage}`;
    const assume = (context: RequestContext, action = 'sts:AssumeRole') => allows(trust, { action, resource: '*' }, context);
    const tags = { 'aws:PrincipalArn': broker, 'aws:RequestTag/client': 'A', 'aws:TagKeys': ['client'] };
    expect(assume(tags)).toBe(true);
    expect(assume(tags, 'sts:TagSession')).toBe(true);
    expect(assume({ ...tags, 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/someone-else` })).toBe(false);
    expect(assume({ 'aws:PrincipalArn': broker })).toBe(false);
    expect(assume({ ...tags, 'aws:RequestTag/client': '' })).toBe(false);
    expect(assume({ ...tags, 'aws:TagKeys': ['client', 'admin'] })).toBe(false);
  });

  it("keep a session out of another client's folder even were the role scoped to incoming/*: the bucket policy denies it itself", () => {
    const wrong = uploader.map((s) => ({ ...s, resources: s.resources.map((r) => r.replace('${aws:PrincipalTag/client}/', '')) }));
    expect(wrong.flatMap((s) => s.resources).filter((r) => r.startsWith('arn:aws:s3:'))).toEqual([object('incoming/*')]);
    expect(may(wrong, 's3:PutObject', 'incoming/B/accounts_20250101.csv', session('A'))).toBe(false);
    expect(may(wrong, 's3:PutObject', 'incoming/A/accounts_20250101.csv', session('A'))).toBe(true);
    // The check can fail: without the bucket policy's statement, the wrong role alone lets A write into B's folder.
    const withoutFolderRule = bucketPolicy.filter((s) => !s.notResources);
    expect(decide({ principal, identity: wrong, resourcePolicy: withoutFolderRule, permission: { action: 's3:PutObject', resource: object('incoming/B/x.csv') }, context: session('A') })).toBe(true);
  });

  it('let only the services that settle uploads write outside incoming/, whatever a principal is allowed', () => {
    const admin: Statement[] = [{ effect: 'Allow', actions: ['s3:*'], resources: ['*'] }];
    const put = (principalArn: string, key: string) =>
      decide({
        principal,
        identity: admin,
        resourcePolicy: bucketPolicy,
        permission: { action: 's3:PutObject', resource: object(key) },
        context: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': principalArn },
      });
    const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
    for (const service of ['persistence', 'loader', 'privacy']) expect(put(role(`dataharvest-${service}-${stack.stage}-eu-central-1-lambdaRole`), 'archive/A/x.csv')).toBe(true);
    expect(put(role(`dataharvest-catapult-${stack.stage}-eu-central-1-lambdaRole`), 'archive/A/x.csv')).toBe(false);
    expect(put(role('an-administrator'), 'archive/A/x.csv')).toBe(false);
    expect(put(role('an-administrator'), 'incoming/A/x.csv')).toBe(false);
  });
});
