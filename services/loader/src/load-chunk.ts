import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ChunkDescriptor } from '@dataharvest/events/chunk';
import type { ClientTracking } from '@dataharvest/shared/client-tracking';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { chunkStaging } from '@dataharvest/shared/db/chunk-tables';
import type { StepDeps } from '@dataharvest/shared/environment';
import { loadRecords } from '@dataharvest/shared/load/slice-loader';
import { partitionName } from '@dataharvest/shared/load/slice-table';
import { logger } from '@dataharvest/shared/logger';
import { ChunkTable, ClosedUploadError, LoadedChunkError, recordInvalidChunk } from './chunk-table';
import { settleIfComplete } from './settle';

export interface LoaderDeps extends StepDeps {
  s3: S3Client;
  tracking?: ClientTracking;
  /** Settled uploads above this many bytes are moved in parts (S3's 5 GiB when not given). */
  copyLimit?: number;
}

export type ChunkOutcome = 'loaded' | 'invalid' | 'duplicate' | 'closed';

const sliceOf = (d: ChunkDescriptor) => ({ type: d.type, client: d.client, batchDate: d.batch_date });

/**
 * Loads one chunk into its upload's staging table, then settles the file if this was its last chunk. A redelivered
 * chunk loads nothing but still tries to settle (the delivery that first loaded it may have died before settling).
 */
export async function loadChunk(deps: LoaderDeps, d: ChunkDescriptor): Promise<ChunkOutcome> {
  await deps.database.ensureSchema(BASE_TABLES_DDL);
  const outcome = await loadRange(deps, d);
  if (outcome === 'closed') return outcome;
  if (outcome === 'loaded' || outcome === 'invalid') await deps.tracking?.chunkDone(d.client);
  await settleIfComplete(deps, d);
  return outcome;
}

async function loadRange({ database, s3 }: LoaderDeps, d: ChunkDescriptor): Promise<ChunkOutcome> {
  const pool = await database.pool();
  const known = await pool.query<{ state: string; loaded: boolean }>(
    'SELECT u.state, EXISTS (SELECT 1 FROM chunk_loads l WHERE l.upload_id = u.upload_id AND l.chunk = $2) AS loaded FROM chunk_uploads u WHERE u.upload_id = $1',
    [d.upload_id, d.index],
  );
  // Checked before reading anything: a settled upload's object has moved on, a superseded one's may be replaced.
  if (known.rows[0]?.state !== 'LOADING') return 'closed';
  if (known.rows[0].loaded) return 'duplicate';
  let range: Readable;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: d.bucket, Key: d.key, Range: `bytes=${d.start}-${d.end - 1}`, IfMatch: d.etag }));
    range = out.Body as Readable;
  } catch (error) {
    const name = (error as { name?: string }).name;
    // A newer upload replaced the object (412) or it is gone: this upload cannot complete; a newer one supersedes it.
    if (name === 'PreconditionFailed' || name === 'NoSuchKey') {
      logger.warn('chunk of an upload whose object changed: not loaded', { reason: name });
      return 'closed';
    }
    throw error;
  }
  const db = await pool.connect();
  let failure: Error | undefined;
  const lost = (error: Error) => {
    failure ??= error;
  };
  db.on('error', lost);
  try {
    const body = Readable.from(withHeader(Buffer.from(d.header, 'base64'), range));
    const staging = chunkStaging(partitionName(sliceOf(d)), d.upload_id);
    const result = await loadRecords(db, d.type, new ChunkTable(db, d, staging), body, { lenient: d.lenient, firstLine: d.first_line });
    if (result.loaded) return 'loaded';
    await recordInvalidChunk(db, d, result.errors, result.errorCount);
    logger.info('chunk invalid', { error_count: result.errorCount });
    return 'invalid';
  } catch (error) {
    if (error instanceof ClosedUploadError) return 'closed';
    if (error instanceof LoadedChunkError) return 'duplicate';
    failure = error as Error;
    throw error;
  } finally {
    range.destroy();
    db.off('error', lost);
    db.release(failure);
  }
}

/** The chunk's bytes as a file of their own: the header, then the range. */
export async function* withHeader(header: Buffer, range: Readable): AsyncGenerator<Buffer> {
  yield header;
  for await (const chunk of range) yield chunk as Buffer;
}
