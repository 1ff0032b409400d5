import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { columnsDdl } from '@dataharvest/events/file-schemas';
import { type FileDetail, isoDate } from '@dataharvest/events/batch';
import { type ChunkDescriptor, chunkPartitionKey } from '@dataharvest/events/chunk';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { chunkStaging, supersedeUploads } from '@dataharvest/shared/db/chunk-tables';
import type { StepDeps } from '@dataharvest/shared/environment';
import type { ClientTracking } from '@dataharvest/shared/client-tracking';
import { putRecords } from '@dataharvest/shared/kinesis';
import { logger } from '@dataharvest/shared/logger';
import { chunkedLoadRun } from '@dataharvest/shared/load/load-lineage';
import { type ChunkPlan, planChunks } from './chunk-plan';
import { partitionName, type Slice } from '@dataharvest/shared/load/slice-table';

export interface ChunkingConfig {
  /** Files above this many bytes are loaded in chunks of about this size by the chunk loaders. */
  chunkSize: number;
  /** Where the chunk descriptors go. */
  stream: string;
  /** At most this many chunks of one client load at once (partition keys per client). */
  lanes: number;
}

export interface ChunkerDeps extends StepDeps {
  s3: S3Client;
  kinesis: KinesisClient;
  chunking: ChunkingConfig;
  /** Counts the upload's chunks in flight for its client. */
  tracking?: ClientTracking;
}

/** One upload of a large file: where it is, the version the metastore records, the ETag its reads must match. */
export interface LargeUpload {
  bucket: string;
  key: string;
  version: string;
  sequencer?: string;
  etag: string;
  size: number;
  slice: Slice;
  lenient: boolean;
  /** When the object was stored (its Last-Modified), for lineage. */
  uploadedAt?: string;
}

/** The upload's id: the same S3 event (a duplicate delivery) gives the same id, a new upload of the key a new one. */
export const uploadId = (u: Pick<LargeUpload, 'bucket' | 'key' | 'version' | 'sequencer'>) =>
  createHash('sha1')
    .update(`${u.bucket}/${u.key}/${u.version}/${u.sequencer ?? ''}`)
    .digest('hex');

/** A ranged GET of exactly the bytes that were planned: a newer upload of the key fails it (412) instead. */
const rangeReader = (s3: S3Client, u: LargeUpload) => async (start: number, end: number) =>
  (await s3.send(new GetObjectCommand({ Bucket: u.bucket, Key: u.key, Range: `bytes=${start}-${end - 1}`, IfMatch: u.etag }))).Body as Readable;

/**
 * Hands a large file to the chunk loaders: plans its chunks, prepares its staging table (making any older upload of
 * the same file still loading superseded), records it LOADING with its chunk count, and puts one descriptor per chunk
 * on the chunk stream. Every step can run again after a failure: the same upload finds its rows and table. Undefined
 * when the file has no record after its header: the single path reports such a file.
 */
export async function chunkUpload({ s3, kinesis, chunking, database, metastore, tracking, lineage }: ChunkerDeps, u: LargeUpload): Promise<{ chunks: number } | undefined> {
  const plan = await planChunks(rangeReader(s3, u), u.size, chunking.chunkSize);
  if (!plan) return undefined;
  const id = uploadId(u);
  await database.ensureSchema(BASE_TABLES_DDL);
  const { state, created } = await database.inTransaction((db) => openUpload(db, u.slice, id, plan.chunks.length));
  // An earlier attempt got this upload loaded (or superseded) already; what happened to it is recorded.
  if (state !== 'LOADING') return { chunks: plan.chunks.length };
  const detail: FileDetail = {
    status: 'LOADING',
    key: u.key,
    etag: u.version,
    rows: 0,
    bytes: u.size,
    ...(u.uploadedAt ? { uploaded_at: u.uploadedAt } : {}),
    errors: [],
    upload_id: id,
    chunks: { total: plan.chunks.length, done: 0 },
    at: new Date().toISOString(),
  };
  await metastore.recordFile(u.slice.client, u.slice.batchDate, u.slice.type, detail);
  // Counted once per upload: a retry finds the upload's row and does not count its chunks again.
  if (created) await tracking?.chunksQueued(u.slice.client, plan.chunks.length);
  const header = await readAll(await rangeReader(s3, u)(plan.header.start, plan.header.end));
  const descriptors = chunkDescriptors(u, id, plan, header);
  // Before any chunk is out: the loader that settles the upload ends this run.
  await chunkedLoadRun(lineage, { uploadId: id, bucket: u.bucket, key: u.key, client: u.slice.client, batchDate: u.slice.batchDate }).start();
  await putRecords(
    kinesis,
    chunking.stream,
    descriptors.map((d) => ({ PartitionKey: chunkPartitionKey(d, chunking.lanes), Data: Buffer.from(JSON.stringify(d)) })),
  );
  logger.info('file handed to the chunk loaders', { key: u.key, bytes: u.size, chunks: descriptors.length });
  return { chunks: descriptors.length };
}

/** One descriptor per planned chunk of the upload, each with the file's header. */
export const chunkDescriptors = (u: LargeUpload, id: string, plan: ChunkPlan, header: Buffer): ChunkDescriptor[] =>
  plan.chunks.map((c) => ({
    upload_id: id,
    bucket: u.bucket,
    key: u.key,
    etag: u.etag,
    version: u.version,
    client: u.slice.client,
    batch_date: u.slice.batchDate,
    type: u.slice.type,
    index: c.index,
    total: plan.chunks.length,
    start: c.start,
    end: c.end,
    first_line: c.firstLine,
    header: header.toString('base64'),
    lenient: u.lenient,
  }));

/**
 * Records the upload LOADING with its chunk count and creates its staging table, making any older upload of the
 * slice still loading superseded, under the partition's lock and in the caller's transaction. An upload recorded
 * before (a retry) is left as it is: its state says what became of it.
 */
export async function openUpload(db: pg.ClientBase, slice: Slice, id: string, total: number): Promise<{ state: string; created: boolean }> {
  const partition = partitionName(slice);
  await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [partition]);
  const known = await db.query<{ state: string }>('SELECT state FROM chunk_uploads WHERE upload_id = $1', [id]);
  if (known.rows[0]) return { state: known.rows[0].state, created: false };
  await supersedeUploads(db, partition, id);
  const staging = chunkStaging(partition, id);
  await db.query('INSERT INTO chunk_uploads (upload_id, partition, staging, total) VALUES ($1, $2, $3, $4)', [id, partition, staging, total]);
  const columns = columnsDdl(slice.type, { client: slice.client, isoDate: isoDate(slice.batchDate) });
  const check = `client = ${db.escapeLiteral(slice.client)} AND batch_date = ${db.escapeLiteral(isoDate(slice.batchDate))}`;
  await db.query(`CREATE TABLE ${staging} (${columns}, CONSTRAINT ${staging}_slice CHECK (${check}))`);
  return { state: 'LOADING', created: true };
}

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
