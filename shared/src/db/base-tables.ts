import { FILE_TYPES } from '@dataharvest/events/batch';
import { baseTableDdl, REJECTS_DDL } from '@dataharvest/events/file-schemas';
import { CHUNK_TABLES_DDL } from './chunk-tables';

/** The four base tables, persistence's rejects table and its record of chunked loads, as CREATE … IF NOT EXISTS. */
export const BASE_TABLES_DDL: readonly string[] = [...FILE_TYPES.map(baseTableDdl), REJECTS_DDL, ...CHUNK_TABLES_DDL];
