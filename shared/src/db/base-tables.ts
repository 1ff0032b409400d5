import type pg from 'pg';
import { FILE_TYPES } from '@dataharvest/events/batch';
import { baseTableDdl } from '@dataharvest/events/file-schemas';

/** Creates the four base tables if missing; the advisory lock keeps concurrent cold starts from racing. */
export async function ensureBaseTables(client: pg.ClientBase): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('dataharvest:base-tables'))");
    for (const type of FILE_TYPES) await client.query(baseTableDdl(type));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
