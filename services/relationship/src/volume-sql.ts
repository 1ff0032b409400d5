import { FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import { moneySumSql } from '@dataharvest/events/file-schemas';
import type pg from 'pg';
import { HISTORY, type Volume } from './volume';

/**
 * The volumes the anomaly rules compare, one row per client, batch date and file type: what each batch the rules let
 * through loaded. A batch they fail is not recorded, so an anomaly never becomes the history later days are held to.
 */
export const volumeDdl = [
  `CREATE TABLE IF NOT EXISTS batch_volumes (client text NOT NULL, batch_date date NOT NULL, type text NOT NULL,
     rows bigint NOT NULL, money_sum numeric NOT NULL, PRIMARY KEY (client, batch_date, type))`,
];

/** The batch's own volumes ($1 client, $2 batch date), from its slices. */
const volumesSql = FILE_TYPES.map(
  (type) => `SELECT '${type}' AS type, (SELECT count(*) FROM ${type} WHERE client = $1 AND batch_date = $2)::bigint AS rows,
     (${moneySumSql(type)} WHERE client = $1 AND batch_date = $2) AS money_sum`,
).join(' UNION ALL ');

const asVolumes = (rows: { type: string; rows: string; money_sum: string }[]) => rows.map((r) => [r.type as FileType, { rows: Number(r.rows), money: Number(r.money_sum) }] as const);

export async function batchVolumes(db: pg.ClientBase, client: string, isoDate: string): Promise<Record<FileType, Volume>> {
  return Object.fromEntries(asVolumes((await db.query(volumesSql, [client, isoDate])).rows)) as Record<FileType, Volume>;
}

/** The volumes of the client's last HISTORY batches recorded before this one, newest first. */
export async function volumeHistory(db: pg.ClientBase, client: string, isoDate: string): Promise<Partial<Record<FileType, Volume>>[]> {
  const { rows } = await db.query<{ batch_date: string; type: string; rows: string; money_sum: string }>(
    `SELECT to_char(batch_date, 'YYYYMMDD') AS batch_date, type, rows::text, money_sum::text FROM batch_volumes
     WHERE client = $1 AND batch_date IN (SELECT DISTINCT batch_date FROM batch_volumes WHERE client = $1 AND batch_date < $2 ORDER BY batch_date DESC LIMIT ${HISTORY})
     ORDER BY batch_date DESC`,
    [client, isoDate],
  );
  const byDate = new Map<string, Partial<Record<FileType, Volume>>>();
  for (const r of rows) byDate.set(r.batch_date, { ...byDate.get(r.batch_date), ...Object.fromEntries(asVolumes([r])) });
  return [...byDate.values()];
}

/** Records the batch's volumes as history (again, for a new generation: the latest wins). */
export async function recordVolumes(db: pg.ClientBase, client: string, isoDate: string, volumes: Record<FileType, Volume>): Promise<void> {
  const types = FILE_TYPES.filter((t) => volumes[t]);
  await db.query(
    `INSERT INTO batch_volumes (client, batch_date, type, rows, money_sum)
     SELECT $1, $2::date, * FROM unnest($3::text[], $4::bigint[], $5::numeric[])
     ON CONFLICT (client, batch_date, type) DO UPDATE SET rows = excluded.rows, money_sum = excluded.money_sum`,
    [client, isoDate, types, types.map((t) => volumes[t].rows), types.map((t) => volumes[t].money)],
  );
}
