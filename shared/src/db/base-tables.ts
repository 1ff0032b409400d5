import type pg from 'pg';
import { FILE_TYPES } from '@dataharvest/events/batch';
import { baseTableDdl, REJECTS_DDL } from '@dataharvest/events/file-schemas';
import { applyDdl } from '../pg';

/** Creates the four base tables (and persistence's rejects table) if missing; safe to call concurrently. */
export function ensureBaseTables(client: pg.ClientBase): Promise<void> {
  return applyDdl(client, [...FILE_TYPES.map(baseTableDdl), REJECTS_DDL]);
}
