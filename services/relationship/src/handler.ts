import { allPersisted, type Batch } from '@dataharvest/events/batch';
import { fromEnvironment, type StepDeps } from '@dataharvest/shared/environment';
import { builtOnFirstEvent } from '@dataharvest/shared/handler';
import { logger } from '@dataharvest/shared/logger';
import { isoBatchDate, recordedStreamHandler } from '@dataharvest/shared/stream-handler';
import { runStatements } from '@dataharvest/shared/transformer';
import { ddl, ISSUE_KINDS, issueCounts, linkCounts, statements } from './sql';

/** Relations are due once all four files are in and this generation has not been related yet. */
const due = (batch: Batch) => allPersisted(batch) && !batch.relation_established && batch.stage === 'PERSISTED';

/**
 * Links a batch's four files, lists what could not be linked, and marks the relations established (which snapshots
 * the transformer registry for the batch). A replayed or superseded record finds the batch moved on and does nothing.
 */
export const createHandler = ({ metastore, database }: StepDeps) =>
  recordedStreamHandler({ name: 'relationship', recordFailure: metastore.recordFailure }, async (seen) => {
    const batch = await metastore.getBatch(seen.client, seen.batch_date);
    if (!batch || batch.generation !== seen.generation || !due(batch)) {
      logger.info('skipped', { reason: 'relations already established or batch moved on', stage: batch?.stage });
      return;
    }
    await database.ensureSchema(ddl);
    const started = Date.now();
    const { dataQuality, summary } = await database.inTransaction(async (db) => {
      await runStatements(db, 'relationship', statements, batch);
      const issues = await db.query<{ kind: string; n: number }>(issueCounts, [batch.client, isoBatchDate(batch), ISSUE_KINDS]);
      const links = await db.query<Record<string, number>>(linkCounts, [batch.client, isoBatchDate(batch)]);
      return { dataQuality: Object.fromEntries(issues.rows.map((r) => [r.kind, r.n])), summary: links.rows[0] };
    });
    const state = { status: 'DONE' as const, generation: batch.generation, at: new Date().toISOString(), duration_ms: Date.now() - started, summary };
    const next = await metastore.establishRelations(batch, state, dataQuality);
    logger.info(next ? 'relations established' : 'result of an old generation discarded', { data_quality: dataQuality, ...summary, stage: next?.stage });
  });

export const handler = builtOnFirstEvent(() => createHandler(fromEnvironment(process.env, {})));
