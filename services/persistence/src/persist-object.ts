import type { FileDetail } from '@dataharvest/events/batch';
import { parseObjectKey } from '@dataharvest/events/object-key';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { logger } from '@dataharvest/shared/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StepDeps } from '@dataharvest/shared/environment';
import { moveObject, openObject, putErrorReport } from './objects';
import { type LoadResult, loadSlice } from './slice-loader';

/** One upload: `etag` is its version (or ETag); `sequencer` tells two uploads of the same bytes apart. */
export interface S3Object {
  bucket: string;
  key: string;
  etag: string;
  sequencer?: string;
}
export interface Outcome {
  status: 'PERSISTED' | 'REJECTED' | 'GONE';
  rows: number;
}

export interface PersistDeps extends StepDeps {
  s3: S3Client;
  /** Clients whose files load leniently (valid rows in, invalid rows to `rejects`). */
  lenientClients: ReadonlySet<string>;
}

/** LENIENT_CLIENTS: a comma-separated list. */
export const parseClientList = (list: string) =>
  new Set(
    list
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
  );

/**
 * Loads one uploaded object, or refuses it with a report. Either way the metastore and the bucket say what
 * happened: loaded files move to archive/, refused ones to quarantine/ beside errors/<key>.json.
 */
export async function persistObject({ metastore, database, s3, lenientClients }: PersistDeps, { bucket, key, etag }: S3Object): Promise<Outcome> {
  const parsed = parseObjectKey(key);
  if (!parsed.ok) {
    logger.warn('object key refused', { key, reason: parsed.reason });
    await metastore.recordRejectedKey({ client: parsed.client, key, fileName: parsed.fileName, reason: parsed.reason });
    await putErrorReport(s3, bucket, key, { key, status: 'REJECTED', reason: parsed.reason, error_count: 0, errors: [] });
    await moveObject(s3, bucket, key, 'quarantine');
    return { status: 'REJECTED', rows: 0 };
  }
  const loaded = (await metastore.getBatch(parsed.client, parsed.batchDate))?.files[parsed.type];
  if (loaded?.status === 'PERSISTED' && loaded.etag === etag) {
    // The same bytes again (a re-sent file): the slice already holds them, so no new generation, just archive it.
    logger.info('unchanged file archived without reloading', { key });
    await moveObject(s3, bucket, key, 'archive');
    return { status: 'PERSISTED', rows: loaded.rows };
  }
  const object = await openObject(s3, bucket, key);
  if (!object) {
    // An earlier attempt settled this version and moved it on; its outcome is already recorded.
    logger.info('object already settled by an earlier attempt', { key });
    return { status: 'GONE', rows: 0 };
  }
  const { body } = object;
  const started = Date.now();
  const db = await database
    .ensureSchema(BASE_TABLES_DDL)
    .then(() => database.pool())
    .then((pool) => pool.connect())
    .catch((error: unknown) => {
      body.destroy();
      throw error;
    });
  let result: LoadResult;
  let failure: Error | undefined;
  // A connection lost mid-load also surfaces as an 'error' event, which must not go unheard (it would end the process).
  const lost = (error: Error) => {
    failure ??= error;
  };
  db.on('error', lost);
  try {
    const slice = { type: parsed.type, client: parsed.client, batchDate: parsed.batchDate };
    result = await loadSlice(db, slice, body, { gzip: parsed.gzip, lenient: lenientClients.has(parsed.client) });
  } catch (error) {
    body.destroy();
    failure = error as Error;
    throw error;
  } finally {
    // A connection that failed mid-load is discarded, not handed to the next invocation.
    db.off('error', lost);
    db.release(failure);
  }
  const detail: FileDetail = {
    status: result.loaded ? 'PERSISTED' : 'REJECTED',
    key,
    etag,
    rows: result.rows,
    bytes: result.bytes,
    sha256: result.sha256,
    duration_ms: Date.now() - started,
    errors: result.errors,
    error_count: result.errorCount,
    at: new Date().toISOString(),
    ...(result.loaded ? { rejected_rows: result.rejectedRows } : { reason: `${result.errorCount} problem${result.errorCount === 1 ? '' : 's'} found; nothing loaded` }),
  };
  logger.info('file settled', { key, status: detail.status, rows: detail.rows, bytes: detail.bytes, duration_ms: detail.duration_ms, error_count: result.errorCount });
  await metastore.recordFile(parsed.client, parsed.batchDate, parsed.type, detail);
  if (!result.loaded) await putErrorReport(s3, bucket, key, { key, status: 'REJECTED', reason: detail.reason, error_count: result.errorCount, errors: result.errors });
  await moveObject(s3, bucket, key, result.loaded ? 'archive' : 'quarantine', object.etag);
  return { status: detail.status as Outcome['status'], rows: detail.rows };
}
