import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';

const require = createRequire(import.meta.url);
const S3Error = require('s3rver/lib/models/error.js') as new (code: string, message: string, detail?: Record<string, unknown>) => Error;

interface PartStore {
  getObject(bucket: string, key: string, range?: { start: number; end: number }): Promise<{ content: Readable | null; metadata: Record<string, string> } | null>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<unknown>;
}
interface Context {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  get(header: string): string;
  status: number;
  type: string;
  body: unknown;
}

const unquoted = (etag: string) => etag.trim().replace(/^W\//, '').replaceAll('"', '');
const RANGE = /^bytes=(\d+)-(\d+)$/;

/**
 * UploadPartCopy (`PUT /<bucket>/<key>?partNumber=…&uploadId=…` with `x-amz-copy-source`), which s3rver refuses
 * as not implemented: a byte range of an object (`x-amz-copy-source-range`, inclusive, within the object, as S3
 * requires) becomes the part, only while the source is the version `x-amz-copy-source-if-match` names.
 */
export const uploadPartCopy =
  (store: PartStore) =>
  async (ctx: Context, next: () => Promise<void>): Promise<void> => {
    const copySource = ctx.get('x-amz-copy-source');
    if (ctx.method !== 'PUT' || ctx.query.uploadId === undefined || !copySource) return next();
    const bucket = decodeURIComponent(ctx.path.split('/')[1] ?? '');
    const [sourceBucket = '', ...rest] = copySource.replace(/^\//, '').split('?')[0]!.split('/');
    const [fromBucket, fromKey] = [decodeURIComponent(sourceBucket), decodeURIComponent(rest.join('/'))];
    const source = await store.getObject(fromBucket, fromKey);
    if (!source) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: fromKey });
    source.content?.destroy();
    // As S3 and `s3-archived.ts`: an object in Glacier Flexible Retrieval or Deep Archive is not read until restored.
    if (['GLACIER', 'DEEP_ARCHIVE'].includes(source.metadata['x-amz-storage-class'] ?? '')) throw new S3Error('InvalidObjectState', "The operation is not valid for the object's storage class");
    const wanted = ctx.get('x-amz-copy-source-if-match');
    if (wanted && unquoted(wanted) !== unquoted(source.metadata.etag ?? ''))
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'x-amz-copy-source-If-Match' });
    const size = Number(source.metadata['content-length']);
    const range = ctx.get('x-amz-copy-source-range');
    const [, first = '0', last = String(size - 1)] = RANGE.exec(range) ?? [];
    if (Number(first) > Number(last) || Number(last) >= size) throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { RangeRequested: range });
    const part = await store.getObject(fromBucket, fromKey, { start: Number(first), end: Number(last) });
    if (!part?.content) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: fromKey });
    const { md5 } = (await store.putPart(bucket, String(ctx.query.uploadId), Number(ctx.query.partNumber), part.content)) as { md5: string };
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><LastModified>${new Date().toISOString()}</LastModified><ETag>"${md5}"</ETag></CopyPartResult>`;
  };
