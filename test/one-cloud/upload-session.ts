import { readFileSync } from 'node:fs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ingestBucket } from '../../local/src/cli/connection';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import { ACCOUNT } from '../../local/src/cloud/account';

/**
 * Client isolation through the local cloud (docs/security.md): the upload broker assumes the uploader role of the
 * deployed template with the session tag `client`, and S3 requests of that session pass the IAM proxy.
 */
describe('an upload session of the uploader role', () => {
  let cloud: LocalCloud;
  const broker = `arn:aws:iam::${ACCOUNT}:role/dataharvest-upload-broker-dev`;
  const body = readFileSync('examples/sample-batch/accounts_20200130.csv');

  beforeAll(async () => {
    cloud = await sharedCloud();
  });

  const sessionFor = async (client: string) => {
    const { endpoint } = await cloud.assumeRole(cloud.exports['dataharvest-dev-uploader-role-arn']!, { caller: broker, tags: { client } });
    return new S3Client({
      region: cloud.env.AWS_REGION,
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: cloud.env.AWS_ACCESS_KEY_ID!, secretAccessKey: cloud.env.AWS_SECRET_ACCESS_KEY! },
    });
  };
  const put = (s3: S3Client, key: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
    s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: key, Body: body, ...extra })).then(
      () => 'ok',
      (e: { name?: string }) => e.name,
    );

  it("puts client A's file into incoming/A/ and refuses it client B's folder and every other one", async () => {
    const a = await sessionFor('UPLOAD_A');
    expect(await put(a, 'incoming/UPLOAD_A/accounts_20200130.csv')).toBe('ok');
    expect(await put(a, 'incoming/UPLOAD_B/accounts_20200130.csv')).toBe('AccessDenied');
    expect(await put(a, 'archive/UPLOAD_A/accounts_20200130.csv')).toBe('AccessDenied');
  });

  it('refuses a put naming another encryption, another KMS key or a customer key, by the bucket policy', async () => {
    const a = await sessionFor('UPLOAD_A');
    expect(await put(a, 'incoming/UPLOAD_A/clients_20200130.csv', { ServerSideEncryption: 'AES256' })).toBe('AccessDenied');
    expect(await put(a, 'incoming/UPLOAD_A/clients_20200130.csv', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'arn:aws:kms:eu-central-1:000000000000:key/other' })).toBe('AccessDenied');
    expect(await put(a, 'incoming/UPLOAD_A/clients_20200130.csv', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: cloud.exports['dataharvest-dev-ingest-key-arn'] })).toBe('ok');
    expect(await put(a, 'incoming/UPLOAD_A/clients_20200130.csv', { SSECustomerAlgorithm: 'AES256', SSECustomerKey: 'k'.repeat(32) })).toBe('AccessDenied');
  });

  it('refuses the session to anyone but the broker, and to the broker without exactly a client tag', async () => {
    const role = cloud.exports['dataharvest-dev-uploader-role-arn']!;
    await expect(cloud.assumeRole(role, { caller: `arn:aws:iam::${ACCOUNT}:role/someone-else`, tags: { client: 'UPLOAD_A' } })).rejects.toThrow(/not authorized to perform: sts:AssumeRole/);
    await expect(cloud.assumeRole(role, { caller: broker })).rejects.toThrow(/not authorized/);
    await expect(cloud.assumeRole(role, { caller: broker, tags: { client: 'UPLOAD_A', admin: 'yes' } })).rejects.toThrow(/not authorized/);
  });
});
