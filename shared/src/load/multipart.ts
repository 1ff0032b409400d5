import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandInput,
  type CompletedPart,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { z } from 'zod';

/** S3's limit on one CopyObject source and on one PutObject body: 5 GiB. Above it only multipart uploads work. */
export const S3_SINGLE_REQUEST_LIMIT = 5 * 1024 ** 3;
/** S3's most parts in one upload. */
const MAX_PARTS = 10_000;
/** Server-side copies: few, large parts, a few at once. */
const COPY_PART_BYTES = 1024 ** 3;
const COPIES_AT_ONCE = 4;
/** Uploaded parts are held in memory: small ones (S3 takes 5 MiB and more, but the last). */
const WRITE_PART_BYTES = 16 * 1024 ** 2;

/**
 * The single-request limit a function works with: S3's, unless a template lowers it (`SingleCopyLimit`, set only by
 * tests, so that objects of a few bytes take the multipart paths through the real code).
 */
export const SingleCopyEnv = { SINGLE_COPY_LIMIT: z.coerce.number().int().positive().max(S3_SINGLE_REQUEST_LIMIT).default(S3_SINGLE_REQUEST_LIMIT) };

/** Parts no larger than the limit or the preferred size, and few enough for S3's 10,000. */
const partSize = (size: number, limit: number, preferred: number) => Math.max(Math.min(limit, preferred), Math.ceil(size / MAX_PARTS));

type Target = Pick<CreateMultipartUploadCommandInput, 'Bucket' | 'Key' | 'ContentType' | 'ContentEncoding' | 'ContentDisposition' | 'ContentLanguage' | 'CacheControl' | 'Metadata' | 'StorageClass'>;

/** Starts a multipart upload, runs `upload` with its id, completes it with the parts it returns; aborts it on any error. */
async function inUpload(s3: S3Client, target: Target, upload: (uploadId: string) => Promise<CompletedPart[]>): Promise<void> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand(target));
  try {
    const parts = await upload(UploadId!);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: target.Bucket, Key: target.Key, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (error) {
    // Best effort: the bucket's lifecycle aborts what is left after 7 days.
    await s3.send(new AbortMultipartUploadCommand({ Bucket: target.Bucket, Key: target.Key, UploadId })).catch(() => undefined);
    throw error;
  }
}

/**
 * Copies an object of `size` bytes server-side in parts (UploadPartCopy), each part read only from the source's
 * version `ifMatch`: a newer upload of the key midway fails the copy with PreconditionFailed, never mixes two.
 */
export async function copyInParts(s3: S3Client, target: Target, source: { copySource: string; size: number; ifMatch?: string }, limit: number): Promise<void> {
  const bytes = partSize(source.size, limit, COPY_PART_BYTES);
  const ranges = Array.from({ length: Math.ceil(source.size / bytes) }, (_, i) => ({ part: i + 1, first: i * bytes, last: Math.min(source.size, (i + 1) * bytes) - 1 }));
  await inUpload(s3, target, async (UploadId) => {
    const parts: CompletedPart[] = [];
    for (let i = 0; i < ranges.length; i += COPIES_AT_ONCE) {
      const copied = ranges.slice(i, i + COPIES_AT_ONCE).map(async ({ part, first, last }) => {
        const out = await s3.send(
          new UploadPartCopyCommand({
            Bucket: target.Bucket,
            Key: target.Key,
            UploadId,
            PartNumber: part,
            CopySource: source.copySource,
            CopySourceRange: `bytes=${first}-${last}`,
            CopySourceIfMatch: source.ifMatch,
          }),
        );
        return { PartNumber: part, ETag: out.CopyPartResult!.ETag };
      });
      parts.push(...(await Promise.all(copied)));
    }
    return parts;
  });
}

/** Writes what `chunks` yield as one object in parts (UploadPart); `size` is what it will about be, for the part size. */
export async function writeInParts(s3: S3Client, target: Target, chunks: AsyncIterable<Buffer>, size: number, limit: number): Promise<void> {
  const bytes = partSize(size, limit, WRITE_PART_BYTES);
  await inUpload(s3, target, async (UploadId) => {
    const parts: CompletedPart[] = [];
    const send = async (body: Buffer) => {
      const out = await s3.send(new UploadPartCommand({ Bucket: target.Bucket, Key: target.Key, UploadId, PartNumber: parts.length + 1, Body: body }));
      parts.push({ PartNumber: parts.length + 1, ETag: out.ETag });
    };
    let pending: Buffer[] = [];
    let held = 0;
    for await (const chunk of chunks) {
      pending.push(chunk);
      held += chunk.length;
      while (held >= bytes) {
        const all = Buffer.concat(pending);
        await send(all.subarray(0, bytes));
        pending = [all.subarray(bytes)];
        held = all.length - bytes;
      }
    }
    // The last part may be short, or empty when it is the only one.
    if (held > 0 || parts.length === 0) await send(Buffer.concat(pending));
    return parts;
  });
}
