import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3 } from '../../local/src/cloud/emulators/s3';

/** The local S3 alone, in a scratch dir, with one bucket: for tests of S3 behaviour that need no cloud. */
export async function startLocalS3(name: string, Bucket: string): Promise<{ s3: S3Client; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const server = await startS3(dir);
  const s3 = new S3Client({ region: 'eu-central-1', endpoint: server.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await s3.send(new CreateBucketCommand({ Bucket }));
  return {
    s3,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
