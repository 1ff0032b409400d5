import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3, type S3 } from '../src/cloud/emulators/s3';

/** Objects in an offline storage class, as S3 keeps them until restored: the erasure's documented obstacle. */
describe('the local S3 and archived objects', () => {
  let dir: string;
  let server: S3;
  let s3: S3Client;
  const Bucket = 'ingest';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 's3-archived-'));
    server = await startS3(dir);
    s3 = new S3Client({ region: 'eu-central-1', endpoint: server.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

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
