import { createHash } from 'node:crypto';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { RefusedFile } from '../control-totals';
import { copyInParts, S3_SINGLE_REQUEST_LIMIT } from './multipart';

// A HEAD has no body to name its error: S3's 404 reaches the SDK as NotFound.
const isMissing = (error: unknown) => ['NoSuchKey', 'NotFound'].includes((error as { name?: string }).name ?? '');

/** S3 keys may hold 1024 bytes in any segment; file systems (the local cloud's store among them) take 255 a name. */
const MAX_SEGMENT_BYTES = 255;

/**
 * A key with `.` or `..` segments (a path trick) is never used to address an object: HTTP clients and file-backed
 * stores may resolve the dots and reach another key; nor is one with a segment longer than a file name may be.
 * Such uploads are recorded and reported, and left where they are.
 */
export const isUnsafeKey = (key: string) => key.split('/').some((s) => s === '.' || s === '..' || Buffer.byteLength(s) > MAX_SEGMENT_BYTES);

/**
 * Where a settled upload's objects go: `<folder>/<key without incoming/>`; an unsafe key flattened into one
 * segment, encoded, or its SHA-256 when encoded it would be too long a name (the report inside names the key).
 */
export function settledKey(folder: 'archive' | 'quarantine' | 'errors', key: string): string {
  if (!isUnsafeKey(key)) return `${folder}/${key.replace(/^incoming\//, '')}`;
  const encoded = encodeURIComponent(key);
  // Room for the `.json` of an error report.
  return `${folder}/_unsafe-keys/${Buffer.byteLength(encoded) <= MAX_SEGMENT_BYTES - 5 ? encoded : createHash('sha256').update(key).digest('hex')}`;
}

/**
 * The object's body, ETag and size, or undefined when it is gone (an earlier attempt already moved it on) or, given
 * `ifMatch`, is no longer that version (a newer upload replaced it).
 */
export async function openObject(s3: S3Client, bucket: string, key: string, ifMatch?: string): Promise<{ body: Readable; etag?: string; size?: number; lastModified?: Date } | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: ifMatch }));
    return { body: out.Body as Readable, etag: out.ETag, size: out.ContentLength, lastModified: out.LastModified };
  } catch (error) {
    if (isMissing(error) || (error as { name?: string }).name === 'PreconditionFailed') return undefined;
    throw error;
  }
}

/**
 * Moves an upload to archive/ after a load or quarantine/ after a refusal; a retry finding it moved does nothing.
 * With the ETag of what was read, a newer upload of the same key is left in place for its own event. An object above
 * the single-copy limit (S3's 5 GiB; `copyLimit` lowers it in tests) is copied in parts, its metadata kept.
 */
export async function moveObject(s3: S3Client, bucket: string, key: string, folder: 'archive' | 'quarantine', etag?: string, copyLimit = S3_SINGLE_REQUEST_LIMIT): Promise<void> {
  if (isUnsafeKey(key)) return;
  const source = `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const target = settledKey(folder, key);
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const size = head.ContentLength ?? 0;
    if (size <= copyLimit) await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: target, CopySource: source, CopySourceIfMatch: etag }));
    else {
      const { ContentType, ContentEncoding, ContentDisposition, ContentLanguage, CacheControl, Metadata } = head;
      const to = { Bucket: bucket, Key: target, ContentType, ContentEncoding, ContentDisposition, ContentLanguage, CacheControl, Metadata };
      await copyInParts(s3, to, { copySource: source, size, ifMatch: etag ?? head.ETag }, copyLimit);
    }
  } catch (error) {
    if (isMissing(error) || (error as { name?: string }).name === 'PreconditionFailed') return;
    throw error;
  }
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** The error report beside the quarantined file: `errors/<same key>.json`. */
export async function putErrorReport(s3: S3Client, bucket: string, key: string, report: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${settledKey('errors', key)}.json`,
      Body: JSON.stringify(report, null, 2),
      ContentType: 'application/json',
    }),
  );
}

/** The error report of each file reconciliation refused, beside where its upload's report always goes. */
export async function reportRefused(s3: S3Client, bucket: string, refused: readonly RefusedFile[]): Promise<void> {
  for (const r of refused) await putErrorReport(s3, bucket, r.key, { key: r.key, status: 'REJECTED', reason: r.reason, error_count: 1, errors: [{ line: 1, reason: r.reason }] });
}
