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

/** A table made before it had the column gets it, once (checked first: ALTER would lock the table every time). */
const addedColumn = (table: string, column: string, definition: string) => `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = '${table}' AND column_name = '${column}') THEN
    ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${column} ${definition};
  END IF;
END $$`;

/** The four base tables, persistence's rejects table and its record of chunked loads, as CREATE … IF NOT EXISTS. */
export const BASE_TABLES_DDL: readonly string[] = [
  ...FILE_TYPES.map(baseTableDdl),
  // Rows keep their file line (lineage); chunks their money's sum (control totals).
  ...FILE_TYPES.map((type) => addedColumn(type, 'line', 'integer')),
  REJECTS_DDL,
  ...CHUNK_TABLES_DDL,
  addedColumn('chunk_loads', 'money_sum', 'numeric NOT NULL DEFAULT 0'),
  rawAsBytes('rejects'),
  rawAsBytes('chunk_rejects'),
];
