import { createHash } from 'node:crypto';
import type pg from 'pg';
import { isoDate, nextIsoDate, type FileType } from '@dataharvest/events/batch';
import type { LoadTarget, Reject } from './slice-loader';
import { columnsDdl } from '@dataharvest/events/file-schemas';
import { supersedeUploads } from '@dataharvest/shared/db/chunk-tables';

/** One file's worth of a base table: its (client, batch date) partition. */
export interface Slice {
  type: FileType;
  client: string;
  batchDate: string /* YYYYMMDD */;
}

/** The slice's partition: date for the eye, a hash of client and date for a short identifier that needs no quoting. */
export const partitionName = (s: Slice) => `${s.type}_${s.batchDate}_${createHash('sha1').update(`${s.client}/${s.batchDate}`).digest('hex').slice(0, 12)}`;

/**
 * The SQL of a slice swap. A file is COPYed into a fresh table whose slice columns default to the slice's values
 * and which carries the partition's CHECK constraint; then, in the same transaction, it replaces the slice's
 * partition. The CHECK lets ATTACH skip its validation scan, so the swap costs catalog updates only.
 */
export class SliceTable implements LoadTarget {
  readonly partition: string;
  readonly staging: string;
  private readonly client: string;
  private readonly from: string;

  constructor(
    private readonly db: pg.ClientBase,
    private readonly slice: Slice,
  ) {
    this.partition = partitionName(slice);
    this.staging = `${this.partition}_loading`;
    this.client = db.escapeLiteral(slice.client);
    this.from = db.escapeLiteral(isoDate(slice.batchDate));
  }

  /**
   * Starts the transaction and creates the staging table. Loads of one slice queue on an advisory lock; the table
   * is declared from the schema rather than LIKE the parent, so no lock on the parent is held during the COPY.
   */
  async begin(): Promise<void> {
    await this.db.query('BEGIN');
    await this.db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.partition]);
    await this.db.query(`DROP TABLE IF EXISTS ${this.staging}`);
    const columns = columnsDdl(this.slice.type, { client: this.slice.client, isoDate: isoDate(this.slice.batchDate) });
    await this.db.query(`CREATE TABLE ${this.staging} (${columns}, CONSTRAINT ${this.staging}_slice CHECK (client = ${this.client} AND batch_date = ${this.from}))`);
  }

  /**
   * Replaces the slice's partition with the staging table and the slice's rejects with `rejects`, then commits. A
   * chunked upload of the same file still loading is older than this one: it is superseded.
   */
  async commit(rejects: ReadonlyArray<Reject>, { sha256 }: { sha256: string }): Promise<void> {
    await supersedeUploads(this.db, this.partition);
    if (await holdsBytes(this.db, this.partition, sha256)) {
      // The same bytes again (a duplicate delivery, a retried attempt): the partition stays as it is. A swap would
      // take the base table's ACCESS EXCLUSIVE lock and hold up every client's readers of it, for nothing.
      await this.db.query(`DROP TABLE ${this.staging}`);
      await this.db.query('COMMIT');
      return;
    }
    await replaceSlice(this.db, this.slice, this.staging, sha256);
    if (rejects.length) {
      await this.db.query(
        `INSERT INTO rejects (client, batch_date, type, line, reason, raw)
         SELECT ${this.client}, ${this.from}, '${this.slice.type}', * FROM unnest($1::int[], $2::text[], $3::bytea[])`,
        [rejects.map((r) => r.line), rejects.map((r) => r.reason), rejects.map((r) => r.raw)],
      );
    }
    await this.db.query('COMMIT');
  }

  async rollback(): Promise<void> {
    await this.db.query('ROLLBACK');
  }
}

/**
 * In the caller's transaction, under the partition's lock: the staging table (with the partition's CHECK) becomes the
 * slice's partition, and the slice's rejects are cleared for the new ones.
 */
export async function replaceSlice(db: pg.ClientBase, slice: Slice, staging: string, sha256?: string): Promise<void> {
  const partition = partitionName(slice);
  const client = db.escapeLiteral(slice.client);
  const from = db.escapeLiteral(isoDate(slice.batchDate));
  // The base table's readers wait for the attach, and it for them. ATTACH alone waits for no reader, and a session
  // listing the table's partitions while it committed kept a list without the slice, for good: its reads of the
  // table found none of the slice's rows (PostgreSQL 17; docs/testing.md, "Chaos suite"). A swap's DROP took this
  // lock already; now a first load of a slice takes it too.
  await db.query(`LOCK TABLE ${slice.type} IN ACCESS EXCLUSIVE MODE`);
  await db.query(`DROP TABLE IF EXISTS ${partition}`);
  await db.query(`ALTER TABLE ${staging} RENAME TO ${partition}`);
  await db.query(`ALTER TABLE ${slice.type} ATTACH PARTITION ${partition} FOR VALUES FROM (${client}, ${from}) TO (${client}, '${nextIsoDate(slice.batchDate)}')`);
  await db.query(`DELETE FROM rejects WHERE client = ${client} AND batch_date = ${from} AND type = '${slice.type}'`);
  // The bytes the partition holds, as holdsBytes reads them (a whole file's load names them; a chunked one does not).
  if (sha256) await db.query(`COMMENT ON TABLE ${partition} IS ${db.escapeLiteral(sha256)}`);
}

/** Whether the slice's partition holds the file with this SHA-256 (replaceSlice's comment on it). */
async function holdsBytes(db: pg.ClientBase, partition: string, sha256: string): Promise<boolean> {
  const { rows } = await db.query<{ sha256: string | null }>("SELECT obj_description(to_regclass($1), 'pg_class') AS sha256", [partition]);
  return rows[0]?.sha256 === sha256;
}
