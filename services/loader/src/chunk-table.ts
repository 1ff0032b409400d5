import type pg from 'pg';
import type { ChunkDescriptor } from '@dataharvest/events/chunk';
import type { RowError } from '@dataharvest/events/batch';
import { DataHarvestError } from '@dataharvest/shared/errors';
import type { IdRuns } from '@dataharvest/shared/load/record-id-set';
import type { LoadTarget, Reject } from '@dataharvest/shared/load/slice-loader';

/*
 * Thrown, not returned: `claim` runs in `begin()`, inside the shared load path (loadRecords), which has no outcome
 * for "nothing to load"; loadRange turns both into its own outcomes ('closed', 'duplicate').
 */
/** The chunk's upload is no longer loading (superseded by a newer upload, or settled): nothing to load. */
export class ClosedUploadError extends DataHarvestError {
  override name = 'ClosedUploadError';
}
/** The chunk was loaded before (a redelivery): its rows are in the staging table already. */
export class LoadedChunkError extends DataHarvestError {
  override name = 'LoadedChunkError';
}

/**
 * One chunk's transaction on its upload's staging table. It holds the upload's row (FOR SHARE) from the first
 * statement, so a newer upload waits for this chunk before it supersedes the upload and drops the table, and it
 * claims the chunk's row in `chunk_loads`, so a second delivery finds the claim, waits for this transaction and loads
 * nothing. Rows, rejects and the claim commit together: a loader killed mid-chunk leaves none of them.
 */
export class ChunkTable implements LoadTarget {
  constructor(
    private readonly db: pg.ClientBase,
    private readonly chunk: ChunkDescriptor,
    readonly staging: string,
  ) {}

  async begin(): Promise<void> {
    await this.db.query('BEGIN');
    try {
      await claim(this.db, this.chunk);
    } catch (error) {
      await this.db.query('ROLLBACK');
      throw error;
    }
  }

  async commit(rejects: Reject[], result: { rows: number; rejectedRows: number; errors: RowError[]; errorCount: number; ids: IdRuns; moneySum: string }): Promise<void> {
    const { upload_id, index } = this.chunk;
    const sql =
      'UPDATE chunk_loads SET loaded = true, rows = $3, rejected = $4, errors = $5, error_count = $6, ids = $7::int8multirange, ids_exact = $8, money_sum = $9 WHERE upload_id = $1 AND chunk = $2';
    await this.db.query(sql, [
      upload_id,
      index,
      result.rows,
      result.rejectedRows,
      JSON.stringify(result.errors),
      result.errorCount,
      `{${result.ids.runs.map(([first, last]) => `[${first},${last}]`).join(',')}}`,
      result.ids.exact,
      result.moneySum,
    ]);
    if (rejects.length) {
      await this.db.query('INSERT INTO chunk_rejects (upload_id, line, reason, raw) SELECT $1, * FROM unnest($2::int[], $3::text[], $4::bytea[])', [
        upload_id,
        rejects.map((r) => r.line),
        rejects.map((r) => r.reason),
        rejects.map((r) => r.raw),
      ]);
    }
    await this.db.query('COMMIT');
  }

  async rollback(): Promise<void> {
    await this.db.query('ROLLBACK');
  }
}

/** Holds the upload (still loading) and claims the chunk, in the caller's transaction. */
async function claim(db: pg.ClientBase, chunk: ChunkDescriptor): Promise<void> {
  const upload = await db.query<{ state: string }>('SELECT state FROM chunk_uploads WHERE upload_id = $1 FOR SHARE', [chunk.upload_id]);
  if (upload.rows[0]?.state !== 'LOADING') throw new ClosedUploadError(`upload ${chunk.upload_id} is ${upload.rows[0]?.state ?? 'unknown'}`);
  const claimed = await db.query('INSERT INTO chunk_loads (upload_id, chunk, first_line) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [chunk.upload_id, chunk.index, chunk.first_line]);
  if (claimed.rowCount === 0) throw new LoadedChunkError(`chunk ${chunk.index} of upload ${chunk.upload_id} is loaded`);
}

/** Records a chunk that failed validation: its errors, and no rows (its COPY was rolled back). */
export async function recordInvalidChunk(db: pg.ClientBase, chunk: ChunkDescriptor, errors: unknown[], errorCount: number): Promise<void> {
  await db.query('BEGIN');
  try {
    await claim(db, chunk);
    await db.query('UPDATE chunk_loads SET error_count = $3, errors = $4 WHERE upload_id = $1 AND chunk = $2', [chunk.upload_id, chunk.index, errorCount, JSON.stringify(errors)]);
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
}
