import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { s3Client } from '@dataharvest/shared/aws';

/** The object's body as a stream, or undefined when it is gone (an earlier attempt already moved it on). */
export async function openObject(bucket: string, key: string): Promise<Readable | undefined> {
  try {
    const out = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body as Readable;
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Moves `incoming/…` to `<folder>/…`: archive/ after a load, quarantine/ after a rejection. */
export async function moveObject(bucket: string, key: string, folder: 'archive' | 'quarantine'): Promise<void> {
  const target = `${folder}/${key.replace(/^incoming\//, '')}`;
  await s3Client().send(new CopyObjectCommand({ Bucket: bucket, Key: target, CopySource: `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}` }));
  await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** The error report beside the quarantined file: `errors/<same key>.json`. */
export async function putErrorReport(bucket: string, key: string, report: unknown): Promise<void> {
  await s3Client().send(new PutObjectCommand({
    Bucket: bucket, Key: `errors/${key.replace(/^incoming\//, '')}.json`, Body: JSON.stringify(report, null, 2), ContentType: 'application/json',
  }));
}
