import { createHash } from 'node:crypto';
import { PassThrough, Transform, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FileDetail } from '@dataharvest/events/batch';
import { parseObjectKey } from '@dataharvest/events/object-key';
import { ensureBaseTables } from '@dataharvest/shared/db/base-tables';
import { logger } from '@dataharvest/shared/logger';
import { recordFile, recordRejectedKey } from '@dataharvest/shared/metastore';
import { pgPool } from '@dataharvest/shared/pg';
import { moveObject, openObject, putErrorReport } from './objects';
import { loadSlice } from './slice-loader';

export interface S3Object { bucket: string; key: string; etag: string }
export interface Outcome { status: 'PERSISTED' | 'REJECTED' | 'GONE'; rows: number }

let tablesReady: Promise<void> | undefined;

/** Loads one uploaded object, or rejects it with a report; either way the metastore and the bucket say what happened. */
export async function persistObject({ bucket, key, etag }: S3Object): Promise<Outcome> {
  const parsed = parseObjectKey(key);
  if (!parsed.ok) {
    logger.warn('object key refused', { key, reason: parsed.reason });
    await recordRejectedKey({ client: parsed.client, key, fileName: parsed.fileName, reason: parsed.reason });
    await putErrorReport(bucket, key, { key, status: 'REJECTED', reason: parsed.reason, errors: [] });
    await moveObject(bucket, key, 'quarantine');
    return { status: 'REJECTED', rows: 0 };
  }
  const body = await openObject(bucket, key);
  if (!body) {
    logger.info('object already moved on by an earlier attempt', { key });
    return { status: 'GONE', rows: 0 };
  }
  const started = Date.now();
  const { stream, digest } = measured(body, parsed.gzip);
  const db = await pgPool().connect();
  let result;
  try {
    tablesReady ??= ensureBaseTables(db).catch((e: unknown) => { tablesReady = undefined; throw e; });
    await tablesReady;
    result = await loadSlice(db, { type: parsed.type, client: parsed.client, batchDate: parsed.batchDate }, stream).catch((error: { code?: string; message?: string }) => {
      // A corrupt .gz is the file's fault, not the platform's: reject it instead of retrying.
      if (error.code?.startsWith('Z_')) return { rows: 0, errors: [{ line: 1, reason: `not a valid gzip file: ${error.message}` }], errorCount: 1, loaded: false };
      throw error;
    });
  } finally {
    db.release();
  }
  const { sha256, bytes } = digest();
  const detail: FileDetail = {
    status: result.loaded ? 'PERSISTED' : 'REJECTED', key, etag, rows: result.loaded ? result.rows : 0, bytes, sha256,
    duration_ms: Date.now() - started, errors: result.errors, at: new Date().toISOString(),
    ...(result.loaded ? {} : { error_count: result.errorCount, reason: `${result.errorCount} problem(s) found; nothing loaded` }),
  };
  logger.info('file settled', { key, status: detail.status, rows: detail.rows, bytes, duration_ms: detail.duration_ms, error_count: result.errorCount });
  await recordFile(parsed.client, parsed.batchDate, parsed.type, detail);
  if (!result.loaded) await putErrorReport(bucket, key, { key, status: 'REJECTED', error_count: result.errorCount, errors: result.errors });
  await moveObject(bucket, key, result.loaded ? 'archive' : 'quarantine');
  return { status: detail.status as Outcome['status'], rows: detail.rows };
}

/** The object's bytes as stored are hashed and counted on the way through; .gz files are inflated after that. */
function measured(body: Readable, gzip: boolean) {
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const stages: NodeJS.ReadWriteStream[] = gzip ? [counter, createGunzip()] : [counter];
  pipeline([body, ...stages, out] as never, () => undefined);
  return { stream: out, digest: () => ({ sha256: hash.digest('hex'), bytes }) };
}
