import { FILE_TYPES } from '@dataharvest/events/batch';
import { baseTableDdl, REJECTS_DDL } from '@dataharvest/events/file-schemas';
import { CHUNK_TABLES_DDL } from './chunk-tables';

/**
 * Rejected rows' `raw` was text before it was bytes (text cannot hold a NUL): a table made then is converted in place,
 * once; the statement changes nothing after that.
 */
const rawAsBytes = (table: string) => `DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = '${table}' AND column_name = 'raw' AND data_type = 'text') THEN
    ALTER TABLE ${table} ALTER COLUMN raw TYPE bytea USING convert_to(raw, 'UTF8');
  END IF;
END $$`;

/** A base table made before rows kept their file line gets the column, once (checked first: ALTER would lock it). */
const withLine = (table: string) => `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = '${table}' AND column_name = 'line') THEN
    ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS line integer;
  END IF;
END $$`;

/** The four base tables, persistence's rejects table and its record of chunked loads, as CREATE … IF NOT EXISTS. */
export const BASE_TABLES_DDL: readonly string[] = [...FILE_TYPES.map(baseTableDdl), ...FILE_TYPES.map(withLine), REJECTS_DDL, ...CHUNK_TABLES_DDL, rawAsBytes('rejects'), rawAsBytes('chunk_rejects')];
