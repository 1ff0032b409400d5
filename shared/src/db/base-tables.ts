import { FILE_TYPES } from '@dataharvest/events/batch';
import { baseTableDdl, REJECTS_DDL } from '@dataharvest/events/file-schemas';

/** The four base tables and persistence's rejects table, as CREATE … IF NOT EXISTS statements. */
export const BASE_TABLES_DDL: readonly string[] = [...FILE_TYPES.map(baseTableDdl), REJECTS_DDL];
