import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const require = createRequire(import.meta.url);
type Metadata = Record<string, string>;
interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Metadata;
}
interface FilesystemStoreBase {
  rootDirectory: string;
  getBucket(bucket: string): Promise<unknown>;
  getMetadata(bucket: string, key: string): Promise<Metadata>;
  getObject(bucket: string, key: string, range?: { start: number; end: number }): Promise<{ content: Readable | null; metadata: Metadata } | null>;
  putMetadata(bucket: string, key: string, metadata: Metadata, md5?: string): Promise<void>;
  initiateUpload(bucket: string, key: string, uploadId: string, metadata: Metadata): Promise<void>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<unknown>;
  putObjectMultipart(bucket: string, uploadId: string, parts: unknown[]): Promise<unknown>;
  copyObject(srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacement?: Metadata): Promise<Metadata>;
}
const FilesystemStore = require('s3rver/lib/stores/filesystem.js') as new (root: string) => FilesystemStoreBase;
const S3Error = require('s3rver/lib/models/error.js') as new (code: string, message: string, detail?: Record<string, unknown>) => Error;
const S3ObjectModel = require('s3rver/lib/models/object.js') as new (bucket: string, key: string, content: null, metadata: Metadata) => unknown;

/** S3's limit on a key: 1,024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;
const SUFFIX = '._S3rver_';
const HASHED = /^[0-9a-f]{64}\._S3rver_object$/;
/** S3's bucket naming rules (the ones that keep a name a single, plain path segment). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const UPLOAD_ID = /^[0-9a-f]{32}$/;

const hashOf = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');
const validBucket = (name: string) => BUCKET_NAME.test(name) && !name.includes('..');

/**
 * s3rver's file store with objects under names no key can steer: `<bucket>/<sha256 of the key>._S3rver_<resource>`,
 * the key itself in `…_S3rver_key`. s3rver stored `a/b/c` as the path `a/b/c._S3rver_object`, so a key with `..`
 * segments wrote outside the bucket (outside the data dir, as root), and a long segment failed the write with an
 * ENAMETOOLONG that no one handled, which ended the process. Keys over S3's 1,024 bytes are refused as S3 refuses them.
 */
export class SafeStore extends FilesystemStore {
  /** Keys of hashed names, per bucket: a name's key never changes. */
  private readonly keys = new Map<string, string>();

  constructor(root: string) {
    super(root);
    migrate(root);
  }

  getBucketPath(bucket: string): string {
    if (!validBucket(bucket)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
    return join(this.rootDirectory, bucket);
  }

  override async getBucket(bucket: string): Promise<unknown> {
    return validBucket(bucket) ? super.getBucket(bucket) : null;
  }

  getResourcePath(bucket: string, key = '', resource: string): string {
    return join(this.getBucketPath(bucket), `${key === '' ? '' : hashOf(key)}${SUFFIX}${resource}`);
  }

  async putObject(object: StoredObject): Promise<{ size: number; md5: string }> {
    await this.recordKey(object.bucket, object.key);
    const md5 = createHash('md5');
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const source = Buffer.isBuffer(object.content) ? [object.content] : object.content;
    // pipeline: a failed write is this request's error, never an unhandled 'error' event.
    await pipeline(source, counted, createWriteStream(this.getResourcePath(object.bucket, object.key, 'object')));
    const digest = md5.digest('hex');
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  }

  override async initiateUpload(bucket: string, key: string, uploadId: string, metadata: Metadata): Promise<void> {
    checkKey(key);
    return super.initiateUpload(bucket, key, uploadId, metadata);
  }

  override async putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<unknown> {
    checkUpload(uploadId);
    return super.putPart(bucket, uploadId, partNumber, content);
  }

  /**
   * The ETag S3 gives an object assembled from parts: the MD5 of the parts' MD5s, then `-<number of parts>`, by
   * which a client (and a test) tells a multipart object from one written whole.
   */
  override async putObjectMultipart(bucket: string, uploadId: string, parts: Array<{ number: number; etag: string }>): Promise<unknown> {
    checkUpload(uploadId);
    const key = await readFile(join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId, 'key'), 'utf8');
    const result = (await super.putObjectMultipart(bucket, uploadId, parts)) as { md5: string; size: number };
    const ordered = [...parts].sort((a, b) => a.number - b.number).map((p) => Buffer.from(p.etag, 'hex'));
    const md5 = `${createHash('md5').update(Buffer.concat(ordered)).digest('hex')}-${parts.length}`;
    await writeFile(this.getResourcePath(bucket, key, 'object.md5'), md5);
    return { ...result, md5 };
  }

  override async copyObject(srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacement?: Metadata): Promise<Metadata> {
    await this.recordKey(destBucket, destKey);
    return super.copyObject(srcBucket, srcKey, destBucket, destKey, replacement);
  }

  /** The object's ETag as stored now, read at once (for the event of a write that has just completed). */
  etagNow(bucket: string, key: string): string | undefined {
    try {
      return readFileSync(this.getResourcePath(bucket, key, 'object.md5'), 'utf8');
    } catch {
      return undefined;
    }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    for (const resource of ['object', 'object.md5', 'metadata.json', 'key'])
      await unlink(this.getResourcePath(bucket, key, resource)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
  }

  /** S3's listing: keys in UTF-8 byte order, from `startAfter`, under `prefix`, rolled up at `delimiter`. */
  async listObjects(bucket: string, options: { delimiter?: string; startAfter?: string; prefix?: string; maxKeys?: number }) {
    const { delimiter = '', startAfter = '', prefix = '', maxKeys = Number.POSITIVE_INFINITY } = options;
    const names = (await readdir(this.getBucketPath(bucket))).filter((n) => HASHED.test(n));
    const all = (await Promise.all(names.map((n) => this.keyOf(bucket, n.slice(0, 64))))).filter((k): k is string => k !== undefined);
    all.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const commonPrefixes = new Set<string>();
    const keys: string[] = [];
    let isTruncated = false;
    for (const key of all) {
      if (Buffer.compare(Buffer.from(key), Buffer.from(startAfter)) <= 0 || !key.startsWith(prefix)) continue;
      const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (at !== -1) {
        commonPrefixes.add(key.slice(0, at + delimiter.length));
        continue;
      }
      if (keys.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      keys.push(key);
    }
    const objects = await Promise.all(keys.map(async (key) => [key, await this.getMetadata(bucket, key).catch(() => undefined)] as const));
    return {
      objects: objects.filter(([, m]) => m !== undefined).map(([key, m]) => new S3ObjectModel(bucket, key, null, m!)),
      commonPrefixes: [...commonPrefixes].sort(),
      isTruncated,
    };
  }

  private async recordKey(bucket: string, key: string): Promise<void> {
    checkKey(key);
    await mkdir(this.getBucketPath(bucket), { recursive: true });
    await writeFile(this.getResourcePath(bucket, key, 'key'), key, 'utf8');
    this.keys.set(`${bucket}/${hashOf(key)}`, key);
  }

  private async keyOf(bucket: string, hash: string): Promise<string | undefined> {
    const known = this.keys.get(`${bucket}/${hash}`);
    if (known !== undefined) return known;
    const key = await readFile(join(this.getBucketPath(bucket), `${hash}${SUFFIX}key`), 'utf8').catch(() => undefined);
    if (key !== undefined) this.keys.set(`${bucket}/${hash}`, key);
    return key;
  }
}

function checkKey(key: string): void {
  const size = Buffer.byteLength(key, 'utf8');
  if (size > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', 'Your key is too long', { MaxSizeAllowed: MAX_KEY_BYTES, Size: size });
}

function checkUpload(uploadId: string): void {
  if (!UPLOAD_ID.test(uploadId))
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
}

/**
 * Moves objects a data dir holds in s3rver's own layout (`<bucket>/<key path>._S3rver_<resource>`) to hashed names,
 * so that a data dir of an earlier version keeps its objects.
 */
function migrate(root: string): void {
  if (!existsSync(root)) return;
  for (const bucket of readdirSync(root)) {
    const bucketPath = join(root, bucket);
    if (!statSync(bucketPath).isDirectory()) continue;
    const walk = (dir: string, rel: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const relPath = rel ? posix.join(rel, name) : name;
        if (statSync(path).isDirectory()) {
          if (rel === '' && name === `${SUFFIX}uploads`) continue;
          walk(path, relPath);
          if (readdirSync(path).length === 0) rmdirSync(path);
          continue;
        }
        const at = relPath.lastIndexOf(SUFFIX);
        if (at <= 0 || (rel === '' && /^[0-9a-f]{64}\._S3rver_/.test(name))) continue;
        const key = relPath.slice(0, at);
        const hash = hashOf(key);
        renameSync(path, join(bucketPath, `${hash}${relPath.slice(at)}`));
        if (relPath.endsWith(`${SUFFIX}object`)) writeFileSync(join(bucketPath, `${hash}${SUFFIX}key`), key, 'utf8');
      }
    };
    mkdirSync(bucketPath, { recursive: true });
    walk(bucketPath, '');
  }
}
