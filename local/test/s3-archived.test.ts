import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startLocalS3 } from '../../test/support/local-s3';

/** Objects in an offline storage class, as S3 keeps them until restored: the erasure's documented obstacle. */
describe('the local S3 and archived objects', () => {
  let local: Awaited<ReturnType<typeof startLocalS3>> | undefined;
  let s3: S3Client;
  const Bucket = 'ingest';

  beforeAll(async () => {
    local = await startLocalS3('s3-archived', Bucket);
    s3 = local.s3;
  });
  afterAll(() => local?.stop());

  it('refuses to read a Glacier or Deep Archive object with InvalidObjectState, and reads it once written in another class', async () => {
    for (const StorageClass of ['GLACIER', 'DEEP_ARCHIVE'] as const) {
      const Key = `archive/ACME/${StorageClass}.csv`;
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'a,b\n', StorageClass }));
      await expect(s3.send(new GetObjectCommand({ Bucket, Key }))).rejects.toMatchObject({ name: 'InvalidObjectState', $metadata: { httpStatusCode: 403 } });
      expect((await s3.send(new HeadObjectCommand({ Bucket, Key }))).StorageClass).toBe(StorageClass);
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'a,b\n', StorageClass: 'STANDARD' }));
      expect(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString()).toBe('a,b\n');
    }
  });
});
