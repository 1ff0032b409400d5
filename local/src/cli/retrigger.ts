import { CopyObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Connection } from './connection';

/**
 * Makes S3 notify persistence of an upload again: the object is copied onto itself, which S3 allows only with new
 * metadata (MetadataDirective REPLACE), so its own metadata and content headers are carried over and one is added.
 * The copy is a new ObjectCreated:Copy event with the same bytes, which persistence loads as it would the upload, on
 * AWS as in the local cloud; no Lambda API is needed. The caller needs s3:GetObject and s3:PutObject on incoming/*.
 * A copy takes up to 5 GB in one request: a larger upload has to be sent again.
 */
export async function retriggerUpload(on: Connection, bucket: string, key: string, at = new Date()): Promise<void> {
  const head = await on.aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  await on.aws.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: key,
      CopySource: `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
      MetadataDirective: 'REPLACE',
      Metadata: { ...head.Metadata, 'dataharvest-redriven-at': at.toISOString() },
      ...(head.ContentType ? { ContentType: head.ContentType } : {}),
      ...(head.ContentEncoding ? { ContentEncoding: head.ContentEncoding } : {}),
    }),
  );
}
