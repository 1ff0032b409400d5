import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { type FileDetail, isoDate, RowError } from '@dataharvest/events/batch';
import type { ChunkDescriptor } from '@dataharvest/events/chunk';
import { supersedeUploads } from '@dataharvest/shared/db/chunk-tables';
import { moveObject, putErrorReport, reportRefused } from '@dataharvest/shared/load/objects';
import { chunkedLoadRun, loadedTable, uploadedObject } from '@dataharvest/shared/load/load-lineage';
import { fitForMetastore, MAX_REPORTED_ERRORS } from '@dataharvest/shared/load/report-size';
import { partitionName, replaceSlice } from '@dataharvest/shared/load/slice-table';
import { logger } from '@dataharvest/shared/logger';
import { recordFileSettled } from '@dataharvest/shared/metrics';
import { z } from 'zod';
import type { LoaderDeps } from './load-chunk';

/** What the database decided about a chunked upload once all its chunks were in. */
export interface Settled {
  state: 'PERSISTED' | 'REJECTED';
  rows: number;
  rejectedRows: number;
  errors: RowError[];
  errorCount: number;
  /** The sum of the loaded money columns (the chunks' sums), for a file loaded. */
  moneySum?: string;
}

/**
 * Settles a chunked upload once every chunk is in: the chunk whose delivery completes the count (or any delivery
 * after it) takes the partition's lock, checks what spans the whole file (errors in any chunk, record ids repeated
 * across chunks), and swaps the staging table into the slice or drops it, in one transaction. The metastore record
 * and the object's move follow, and are repeated by a later delivery if this one dies in between.
 */
export async function settleIfComplete(deps: LoaderDeps, d: ChunkDescriptor): Promise<void> {
  const { database, metastore, s3 } = deps;
  const pool = await database.pool();
  const count = await pool.query<{ done: number }>('SELECT count(*)::int AS done FROM chunk_loads WHERE upload_id = $1', [d.upload_id]);
  const done = count.rows[0]!.done;
  await metastore.recordChunksDone(d.client, d.batch_date, d.type, d.upload_id, done);
  if (done < d.total) return;
  const settled = await database.inTransaction((db) => settleUpload(db, d));
  if (!settled) return;
  const current = (await metastore.getBatch(d.client, d.batch_date))?.files[d.type];
  // A newer upload of the file has been recorded since: it is what the metastore must say.
  if (current?.upload_id !== d.upload_id) return;
  // No reader saw the file's bytes in order: its SHA-256, which a control file names, is taken here in one more read.
  const sha256 = settled.state === 'PERSISTED' ? await sha256Of(s3, d) : undefined;
  const detail: FileDetail = {
    status: settled.state,
    key: d.key,
    etag: d.version,
    rows: settled.rows,
    bytes: current.bytes,
    ...(sha256 === undefined ? {} : { sha256 }),
    ...(current.uploaded_at ? { uploaded_at: current.uploaded_at } : {}),
    ...(settled.moneySum === undefined ? {} : { money_sum: settled.moneySum }),
    duration_ms: Date.now() - Date.parse(current.at),
    errors: settled.errors,
    error_count: settled.errorCount,
    upload_id: d.upload_id,
    chunks: { total: d.total, done: d.total },
    at: new Date().toISOString(),
    ...(settled.state === 'PERSISTED' ? { rejected_rows: settled.rejectedRows } : { reason: `${settled.errorCount} problem${settled.errorCount === 1 ? '' : 's'} found; nothing loaded` }),
  };
  if (settled.state === 'REJECTED') await putErrorReport(s3, d.bucket, d.key, { key: d.key, status: 'REJECTED', reason: detail.reason, error_count: settled.errorCount, errors: settled.errors });
  await metastore.recordFile(d.client, d.batch_date, d.type, fitForMetastore(detail));
  // Held to the batch's control file if it came first, as persistence holds a file it loads itself.
  const refused = settled.state === 'PERSISTED' ? await metastore.reconcileBatch(d.client, d.batch_date) : [];
  await reportRefused(s3, d.bucket, refused);
  const accepted = settled.state === 'PERSISTED' && !refused.some((r) => r.key === d.key);
  await moveObject(s3, d.bucket, d.key, accepted ? 'archive' : 'quarantine', d.etag, deps.copyLimit);
  recordFileSettled({ loaded: settled.state === 'PERSISTED', rows: settled.rows, rejectedRows: settled.rejectedRows, bytes: current.bytes ?? 0, durationMs: detail.duration_ms! });
  // The end of the run the chunker started, as the single path ends its own (a repeated settle repeats it).
  const run = chunkedLoadRun(deps.lineage, { uploadId: d.upload_id, bucket: d.bucket, key: d.key, client: d.client, batchDate: d.batch_date }).ended();
  if (accepted) await run.complete([loadedTable(d.type, settled.rows)], [uploadedObject(d.bucket, d.key, { sha256, bytes: current.bytes })]);
  else await run.fail(detail.reason ?? refused.find((r) => r.key === d.key)?.reason ?? 'refused');
  logger.info('chunked file settled', { key: d.key, status: detail.status, rows: detail.rows, chunks: d.total, error_count: settled.errorCount });
}

const Totals = z.object({
  rows: z.coerce.number(),
  rejected: z.coerce.number(),
  error_count: z.coerce.number(),
  invalid: z.coerce.number(),
  errors: z.array(RowError),
  money_sum: z.string(),
});

/** The settling transaction; undefined when the upload was superseded. Settled twice, it answers as the first time did. */
export async function settleUpload(db: pg.ClientBase, d: ChunkDescriptor): Promise<Settled | undefined> {
  const slice = { type: d.type, client: d.client, batchDate: d.batch_date };
  const partition = partitionName(slice);
  await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [partition]);
  const upload = (await db.query<{ state: string; staging: string; settled: Settled | null }>('SELECT state, staging, settled FROM chunk_uploads WHERE upload_id = $1 FOR UPDATE', [d.upload_id]))
    .rows[0];
  if (!upload || upload.state === 'SUPERSEDED') return undefined;
  if (upload.settled) return upload.settled;
  const totals = Totals.parse(
    (
      await db.query(
        `SELECT coalesce(sum(rows), 0) AS rows, coalesce(sum(rejected), 0) AS rejected, coalesce(sum(error_count), 0) AS error_count,
                coalesce(sum(money_sum), 0)::numeric(38,2)::text AS money_sum,
                count(*) FILTER (WHERE NOT loaded) AS invalid,
                coalesce((SELECT jsonb_agg(e ORDER BY (e->>'line')::int) FROM (SELECT DISTINCT e FROM chunk_loads, jsonb_array_elements(errors) e WHERE upload_id = $1) x), '[]') AS errors
         FROM chunk_loads WHERE upload_id = $1`,
        [d.upload_id],
      )
    ).rows[0],
  );
  const strictErrors = !d.lenient && totals.error_count > 0;
  const repeated = strictErrors || totals.invalid > 0 ? [] : await repeatedIds(db, upload.staging, d);
  const errors = [...totals.errors, ...repeated].sort((a, b) => a.line - b.line);
  const rejected = strictErrors || totals.invalid > 0 || repeated.length > 0 || totals.rows === 0;
  if (rejected) {
    if (totals.rows === 0 && errors.length === 0) errors.push({ line: 2, reason: 'the file has a header but no rows' });
    await db.query(`DROP TABLE IF EXISTS ${upload.staging}`);
    return recordSettled(db, d, {
      state: 'REJECTED',
      rows: 0,
      rejectedRows: 0,
      errors: errors.slice(0, MAX_REPORTED_ERRORS),
      errorCount: Math.max(totals.error_count + repeated.length, errors.length),
    });
  }
  await supersedeUploads(db, partition, d.upload_id);
  await replaceSlice(db, slice, upload.staging);
  await db.query('INSERT INTO rejects (client, batch_date, type, line, reason, raw) SELECT $2, $3::date, $4, line, reason, raw FROM chunk_rejects WHERE upload_id = $1', [
    d.upload_id,
    d.client,
    isoDate(d.batch_date),
    d.type,
  ]);
  return recordSettled(db, d, {
    state: 'PERSISTED',
    rows: totals.rows,
    rejectedRows: totals.rejected,
    errors: totals.errors.slice(0, MAX_REPORTED_ERRORS),
    errorCount: totals.error_count,
    moneySum: totals.money_sum,
  });
}

/** Keeps the decision with the upload, for every later delivery to answer with. */
async function recordSettled(db: pg.ClientBase, d: ChunkDescriptor, settled: Settled): Promise<Settled> {
  await db.query('UPDATE chunk_uploads SET state = $2, rows = $3, settled = $4, settled_at = now() WHERE upload_id = $1', [d.upload_id, settled.state, settled.rows, JSON.stringify(settled)]);
  return settled;
}

/**
 * Record ids that two chunks both hold: a check each chunk cannot make alone. Each chunk recorded its ids as runs;
 * where two chunks' runs meet, those ids are the repeated ones (or, for a chunk of scattered ids that kept only their
 * span, the candidates, which the staging table then confirms). Reported at the first line of the later chunk, as
 * close as the chunks' record can say.
 */
async function repeatedIds(db: pg.ClientBase, staging: string, d: ChunkDescriptor): Promise<RowError[]> {
  const shared = (
    await db.query<{ common: string | null; exact: boolean }>(
      `SELECT range_agg(a.ids * b.ids) AS common, bool_and(a.ids_exact AND b.ids_exact) AS exact
       FROM chunk_loads a JOIN chunk_loads b ON b.upload_id = a.upload_id AND a.chunk < b.chunk AND a.ids && b.ids
       WHERE a.upload_id = $1`,
      [d.upload_id],
    )
  ).rows[0]!;
  if (!shared.common) return [];
  const ids = shared.exact
    ? `SELECT id FROM unnest($2::int8multirange) r, generate_series(lower(r), upper(r) - 1) id ORDER BY id LIMIT ${MAX_REPORTED_ERRORS}`
    : `SELECT record_id::int8 AS id FROM ${staging} WHERE record_id::int8 <@ $2::int8multirange GROUP BY record_id HAVING count(*) > 1 ORDER BY record_id LIMIT ${MAX_REPORTED_ERRORS}`;
  const { rows } = await db.query<{ id: string; line: number; chunks: number[] }>(
    `SELECT d.id, max(l.first_line) AS line, array_agg(l.chunk ORDER BY l.chunk) AS chunks
     FROM (${ids}) d JOIN chunk_loads l ON l.upload_id = $1 AND l.ids @> d.id
     GROUP BY d.id ORDER BY d.id`,
    [d.upload_id, shared.common],
  );
  const where = (chunks: number[]) => (shared.exact ? `in chunks ${chunks.join(', ')} of the file` : 'in more than one chunk of the file');
  return rows.map((r) => ({ line: r.line, column: 'record_id', reason: `duplicate record_id ${r.id}: ${where(r.chunks)}` }));
}

/** The SHA-256 of the upload's bytes, read once more; undefined when a newer upload replaced it or it moved on. */
async function sha256Of(s3: S3Client, d: ChunkDescriptor): Promise<string | undefined> {
  let body: Readable;
  try {
    body = (await s3.send(new GetObjectCommand({ Bucket: d.bucket, Key: d.key, IfMatch: d.etag }))).Body as Readable;
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'PreconditionFailed' || name === 'NoSuchKey') return undefined;
    throw error;
  }
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
