import type pg from 'pg';
import { FILE_TYPES } from '@dataharvest/events/batch';
import { baseTableDdl, REJECTS_DDL } from '@dataharvest/events/file-schemas';

/**
 * Creates the four base tables (and persistence's rejects table) if missing. Safe to call concurrently: CREATE TABLE
 * IF NOT EXISTS alone can still fail when two sessions race, so a transaction-scoped advisory lock serialises them.
 */
export async function ensureBaseTables(client: pg.ClientBase): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('dataharvest:base-tables'))");
    for (const type of FILE_TYPES) await client.query(baseTableDdl(type));
    await client.query(REJECTS_DDL);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
