import type pg from 'pg';

/**
 * The database's record of chunked loads. `chunk_uploads` has one row per upload and its state; `chunk_loads` one row
 * per chunk loaded into the upload's staging table, written in the chunk's own transaction, so a chunk delivered
 * twice finds its row and loads nothing; `chunk_rejects` the rows lenient loads kept out.
 */
export const CHUNK_TABLES_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS chunk_uploads (
     upload_id text PRIMARY KEY,
     partition text NOT NULL,
     staging text NOT NULL,
     total int NOT NULL,
     state text NOT NULL DEFAULT 'LOADING' CHECK (state IN ('LOADING', 'PERSISTED', 'REJECTED', 'SUPERSEDED')),
     rows bigint,
     -- What the settling transaction decided: later deliveries answer with it (the staging table is gone by then).
     settled jsonb,
     created_at timestamptz NOT NULL DEFAULT now(),
     settled_at timestamptz)`,
  `CREATE INDEX IF NOT EXISTS chunk_uploads_loading ON chunk_uploads (partition) WHERE state = 'LOADING'`,
  `CREATE TABLE IF NOT EXISTS chunk_loads (
     upload_id text NOT NULL REFERENCES chunk_uploads ON DELETE CASCADE,
     chunk int NOT NULL,
     first_line int NOT NULL,
     loaded boolean NOT NULL DEFAULT false,
     rows bigint NOT NULL DEFAULT 0,
     rejected bigint NOT NULL DEFAULT 0,
     error_count int NOT NULL DEFAULT 0,
     errors jsonb NOT NULL DEFAULT '[]',
     -- The chunk's record ids as runs (or, not exact, their span): the settling step intersects them across chunks.
     ids int8multirange NOT NULL DEFAULT '{}',
     ids_exact boolean NOT NULL DEFAULT true,
     -- The sum of the chunk's loaded money values: the settling step adds them up.
     money_sum numeric NOT NULL DEFAULT 0,
     PRIMARY KEY (upload_id, chunk))`,
  `CREATE TABLE IF NOT EXISTS chunk_rejects (
     upload_id text NOT NULL REFERENCES chunk_uploads ON DELETE CASCADE,
     line int NOT NULL,
     reason text NOT NULL,
     raw bytea NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS chunk_rejects_upload ON chunk_rejects (upload_id)',
];

/** The staging table of one chunked upload of a slice's partition. */
export const chunkStaging = (partition: string, uploadId: string) => `${partition}_c${uploadId.slice(0, 12)}`;

/**
 * Makes every chunked upload of the partition that is still loading, except `keep`, superseded, and drops its
 * staging table: a newer upload of the same file wins. Runs under the partition's lock, in the caller's transaction;
 * a loader in the middle of a chunk holds its upload's row, so this waits for that chunk and the next finds the
 * upload superseded.
 */
export async function supersedeUploads(db: pg.ClientBase, partition: string, keep?: string): Promise<number> {
  const { rows } = await db.query<{ staging: string }>(
    `UPDATE chunk_uploads SET state = 'SUPERSEDED', settled_at = now() WHERE partition = $1 AND state = 'LOADING' AND upload_id IS DISTINCT FROM $2 RETURNING staging`,
    [partition, keep ?? null],
  );
  for (const { staging } of rows) await db.query(`DROP TABLE IF EXISTS ${staging}`);
  return rows.length;
}
