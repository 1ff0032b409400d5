import { FILE_TYPES, persistedFlag } from '@dataharvest/events/batch';
import { logger } from '@dataharvest/shared/logger';
import { establishRelations } from '@dataharvest/shared/metastore';
import { inTransaction } from '@dataharvest/shared/pg';
import { isoBatchDate, metastoreStreamHandler } from '@dataharvest/shared/stream-handler';
import { ensureTables, runStatements } from '@dataharvest/shared/transformer';
import { dataQualityCounts, ddl, statements } from './sql';

/** Links a batch's four files once they are all persisted, counts orphans, and marks the relations established. */
export const handler = metastoreStreamHandler(async (batch) => {
  const allPersisted = FILE_TYPES.every((t) => batch[persistedFlag[t]]);
  if (!allPersisted || batch.relation_established || batch.stage !== 'PERSISTED') return;
  await ensureTables(ddl);
  const started = Date.now();
  const dataQuality = await inTransaction(async (db) => {
    await runStatements(db, statements, batch);
    const counts = await db.query<{ kind: string; n: number }>(dataQualityCounts, [batch.client, isoBatchDate(batch)]);
    return Object.fromEntries(counts.rows.map((r) => [r.kind, r.n]));
  });
  const state = { status: 'DONE' as const, generation: batch.generation, at: new Date().toISOString(), duration_ms: Date.now() - started, summary: dataQuality };
  const next = await establishRelations(batch, state, dataQuality);
  logger.info(next ? 'relations established' : 'result of an old generation discarded', { data_quality: dataQuality, stage: next?.stage });
});
