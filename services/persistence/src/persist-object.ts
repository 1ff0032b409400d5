import { createHash } from 'node:crypto';
import type { FileDetail } from '@dataharvest/events/batch';
import { INCOMING_PREFIX, parseObjectKey } from '@dataharvest/events/object-key';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { logger } from '@dataharvest/shared/logger';
import { recordFileSettled } from '@dataharvest/shared/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { StepDeps } from '@dataharvest/shared/environment';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type ChunkingConfig, chunkUpload } from './chunker';
import { moveObject, openObject, putErrorReport, reportRefused } from '@dataharvest/shared/load/objects';
import { fitForMetastore } from '@dataharvest/shared/load/report-size';
import { type LoadOptions, type LoadResult, loadSlice } from '@dataharvest/shared/load/slice-loader';
import type { Slice } from '@dataharvest/shared/load/slice-table';
import { persistControl } from './persist-control';
import { LineageRun } from '@dataharvest/shared/openlineage';
import { LOAD_JOB, loadedTable, uploadedObject } from '@dataharvest/shared/load/load-lineage';
import { maskValues } from '@dataharvest/shared/safe-error';

/** One upload: `etag` is its version (or ETag); `sequencer` tells two uploads of the same bytes apart. */
export interface S3Object {
  bucket: string;
  key: string;
  etag: string;
  /** The ETag the event names: the object is read only while it is still that one. */
  eTag?: string;
  sequencer?: string;
}
export interface Outcome {
  /**
   * IGNORED: an object persistence wrote itself (archive/, errors/…), of which the bucket notifies too. CHUNKED: a
   * large file handed to the chunk loaders, which settle it. RECORDED: a control file, recorded on its batch.
   */
  status: 'PERSISTED' | 'REJECTED' | 'GONE' | 'IGNORED' | 'CHUNKED' | 'RECORDED';
  rows: number;
  chunks?: number;
}

export interface PersistDeps extends StepDeps {
  s3: S3Client;
  kinesis: KinesisClient;
  chunking: ChunkingConfig;
  /** Clients whose files load leniently (valid rows in, invalid rows to `rejects`). */
  lenientClients: ReadonlySet<string>;
  /** Objects above this many bytes are moved in parts (S3's 5 GiB when not given). */
  copyLimit?: number;
}

/** LENIENT_CLIENTS: a comma-separated list. */
export const parseClientList = (list: string) =>
  new Set(
    list
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
  );

/** A refused key's file name as its metastore record's sort key holds it (at most 1 KB there): long ones shortened. */
const MAX_RECORDED_NAME = 200;
export const recordedName = (fileName: string) =>
  fileName.length <= MAX_RECORDED_NAME ? fileName : `${fileName.slice(0, MAX_RECORDED_NAME)}…${createHash('sha256').update(fileName).digest('hex').slice(0, 16)}`;

/**
 * Loads one uploaded object, or refuses it with a report. Either way the metastore and the bucket say what
 * happened: loaded files move to archive/, refused ones to quarantine/ beside errors/<key>.json.
 */
export async function persistObject(deps: PersistDeps, { bucket, key, etag, eTag, sequencer }: S3Object): Promise<Outcome> {
  const { metastore, s3, lenientClients } = deps;
  const control = await persistControl(deps, { bucket, key, etag, eTag });
  if (control) return control;
  const parsed = parseObjectKey(key);
  if (!parsed.ok) {
    logger.warn('object key refused', { key, reason: parsed.reason });
    await putErrorReport(s3, bucket, key, { key, status: 'REJECTED', reason: parsed.reason, error_count: 0, errors: [] });
    await metastore.recordRejectedKey({ client: parsed.client, key, fileName: recordedName(parsed.fileName), reason: parsed.reason });
    // Outside incoming/ (a misplaced upload, `Incoming/…`) persistence may neither read nor delete: left where it is.
    if (key.startsWith(INCOMING_PREFIX)) await moveObject(s3, bucket, key, 'quarantine', undefined, deps.copyLimit);
    return { status: 'REJECTED', rows: 0 };
  }
  const loaded = (await metastore.getBatch(parsed.client, parsed.batchDate))?.files[parsed.type];
  if (loaded?.status === 'PERSISTED' && loaded.etag === etag) {
    // The same bytes again (a re-sent file): the slice already holds them, so no new generation, just archive it.
    logger.info('unchanged file archived without reloading', { key });
    // An earlier attempt may have died before reconciling it.
    await reportRefused(s3, bucket, await metastore.reconcileBatch(parsed.client, parsed.batchDate));
    await moveObject(s3, bucket, key, 'archive', undefined, deps.copyLimit);
    return { status: 'PERSISTED', rows: loaded.rows };
  }
  const object = await openObject(s3, bucket, key, eTag);
  if (!object) {
    // An earlier attempt settled this version and moved it on (its outcome is recorded), or a newer upload replaced it
    // (its own event loads it).
    logger.info('object already settled by an earlier attempt', { key });
    return { status: 'GONE', rows: 0 };
  }
  const started = Date.now();
  const slice = { type: parsed.type, client: parsed.client, batchDate: parsed.batchDate };
  const lenient = lenientClients.has(parsed.client);
  const run = new LineageRun(deps.lineage, LOAD_JOB, { client: parsed.client, batch_date: parsed.batchDate });
  let result: LoadResult;
  try {
    const size = object.size ?? 0;
    if (size > deps.chunking.chunkSize && !parsed.gzip) {
      object.body.destroy();
      const upload = { bucket, key, version: etag, sequencer, etag: object.etag ?? '', size, slice, lenient, uploadedAt: object.lastModified?.toISOString() };
      const chunked = await chunkUpload(deps, upload);
      if (chunked) return { status: 'CHUNKED', rows: 0, chunks: chunked.chunks };
      // No record after the header: the single path reads it again and reports why.
      const again = await openObject(s3, bucket, key, eTag);
      if (!again) return { status: 'GONE', rows: 0 };
      object.body = again.body;
    }
    // A file loaded in chunks has a run of its own, which the chunker starts and the loader ends (load-lineage.ts).
    await run.start([uploadedObject(bucket, key)]);
    result =
      parsed.gzip && size > deps.chunking.chunkSize
        ? refusal(size, `a compressed file above ${deps.chunking.chunkSize} bytes: gzip cannot be loaded in parallel chunks, upload it uncompressed`)
        : await loadOnConnection(deps, slice, object.body, { gzip: parsed.gzip, lenient });
  } catch (error) {
    await run.fail(`${(error as Error).name}: ${maskValues((error as Error).message)}`);
    throw error;
  } finally {
    // Read to its end or not (a refused header stops reading), the body is released: an unread one keeps its
    // socket, and enough of them exhaust the S3 client's connections for every later file.
    object.body.destroy();
  }
  const detail: FileDetail = {
    status: result.loaded ? 'PERSISTED' : 'REJECTED',
    key,
    etag,
    rows: result.rows,
    bytes: result.bytes,
    sha256: result.sha256,
    ...(object.lastModified ? { uploaded_at: object.lastModified.toISOString() } : {}),
    ...(result.moneySum === undefined ? {} : { money_sum: result.moneySum }),
    duration_ms: Date.now() - started,
    errors: result.errors,
    error_count: result.errorCount,
    at: new Date().toISOString(),
    ...(result.loaded ? { rejected_rows: result.rejectedRows } : { reason: `${result.errorCount} problem${result.errorCount === 1 ? '' : 's'} found; nothing loaded` }),
  };
  logger.info('file settled', { key, status: detail.status, rows: detail.rows, bytes: detail.bytes, duration_ms: detail.duration_ms, error_count: result.errorCount });
  recordFileSettled({ loaded: result.loaded, rows: result.rows, rejectedRows: result.rejectedRows, bytes: result.bytes, durationMs: detail.duration_ms! });
  // The full report first: nothing about its size can fail there, while the metastore item holds 400 KB at most.
  if (!result.loaded) await putErrorReport(s3, bucket, key, { key, status: 'REJECTED', reason: detail.reason, error_count: result.errorCount, errors: result.errors });
  await metastore.recordFile(parsed.client, parsed.batchDate, parsed.type, fitForMetastore(detail));
  // Held to the batch's control file if it came first (one that comes later reconciles the file itself).
  const refused = result.loaded ? await metastore.reconcileBatch(parsed.client, parsed.batchDate) : [];
  await reportRefused(s3, bucket, refused);
  const accepted = result.loaded && !refused.some((r) => r.key === key);
  await moveObject(s3, bucket, key, accepted ? 'archive' : 'quarantine', object.etag, deps.copyLimit);
  if (!accepted) await run.fail(detail.reason ?? refused.find((r) => r.key === key)?.reason ?? 'refused');
  else await run.complete([loadedTable(parsed.type, result.rows)], [uploadedObject(bucket, key, result)]);
  return { status: accepted ? 'PERSISTED' : 'REJECTED', rows: detail.rows };
}

/** A file refused before any of it is read. */
const refusal = (bytes: number, reason: string): LoadResult => ({ loaded: false, rows: 0, rejectedRows: 0, bytes, errors: [{ line: 1, reason }], errorCount: 1 });

/** Loads the body on one pooled connection, released on every path (discarded when it failed mid-load). */
async function loadOnConnection({ database }: PersistDeps, slice: Slice, body: Readable, options: LoadOptions): Promise<LoadResult> {
  const db = await database
    .ensureSchema(BASE_TABLES_DDL)
    .then(() => database.pool())
    .then((pool) => pool.connect());
  let failure: Error | undefined;
  // A connection lost mid-load also surfaces as an 'error' event, which must not go unheard (it would end the process).
  const lost = (error: Error) => {
    failure ??= error;
  };
  db.on('error', lost);
  try {
    return await loadSlice(db, slice, body, options);
  } catch (error) {
    failure = error as Error;
    throw error;
  } finally {
    db.off('error', lost);
    db.release(failure);
  }
}
