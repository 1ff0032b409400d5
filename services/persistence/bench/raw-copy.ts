import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { columnsDdl } from '@dataharvest/events/file-schemas';
import { isoDate } from '@dataharvest/events/batch';
import { COPY_STREAM_OPTIONS } from '@dataharvest/shared/load/slice-loader';
import type { Slice } from '@dataharvest/shared/load/slice-table';

/** The bench's file read: 1 MiB at a time, for the raw COPY and the in-process load alike. */
export const readFile = (file: string) => createReadStream(file, { highWaterMark: 1 << 20 });

/**
 * The baseline: the file's bytes COPYed with no checks at all into a fresh table of the slice's columns (the slice
 * columns from their defaults, as a load's staging table has them), in one transaction, through the same stream
 * settings as a load. Returns its seconds; the table is dropped again.
 */
export async function rawCopy(db: pg.ClientBase, file: string, slice: Slice): Promise<number> {
  const started = process.hrtime.bigint();
  await db.query('BEGIN');
  await db.query('DROP TABLE IF EXISTS bench_raw');
  await db.query(`CREATE TABLE bench_raw (${columnsDdl(slice.type, { client: slice.client, isoDate: isoDate(slice.batchDate) })})`);
  const sql = 'COPY bench_raw (record_id, account_number, transaction_reference, amount, keyword) FROM STDIN WITH (FORMAT csv, HEADER true)';
  await pipeline(readFile(file), db.query(copyFrom(sql, COPY_STREAM_OPTIONS)));
  await db.query('COMMIT');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await db.query('DROP TABLE bench_raw');
  return seconds;
}
