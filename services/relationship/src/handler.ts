import { allPersisted, type Batch, FILE_TYPES } from '@dataharvest/events/batch';
import { codeDigest } from '@dataharvest/events/lineage';
import { awaitingControl, ControlOwed } from '@dataharvest/events/control';
import { ClientTrackingEnv } from '@dataharvest/shared/client-tracking';
import { fromEnvironment, type StepDeps } from '@dataharvest/shared/environment';
import { builtOnFirstEvent } from '@dataharvest/shared/handler';
import { logger } from '@dataharvest/shared/logger';
import { qualityFacet, rowCountFacet, table } from '@dataharvest/shared/openlineage';
import { recordStepDuration } from '@dataharvest/shared/metrics';
import { isoBatchDate, recordedStreamHandler } from '@dataharvest/shared/stream-handler';
import { runStatements } from '@dataharvest/shared/transformer';
import { evaluate, failureReason, json, measures, type QualityConfig, QualityEnv } from './quality';
import { ddl, ISSUE_KINDS, issueCounts, linkCounts, statements } from './sql';
import { volumeMeasures } from './volume';
import { batchVolumes, recordVolumes, volumeDdl, volumeHistory } from './volume-sql';

/** The version of the relations' code, which events' lineage names. */
const RELATIONSHIP_DIGEST = codeDigest(ddl, statements);

/** Relations are due once all four files are in and this generation has not been related yet. */
const due = (batch: Batch) => allPersisted(batch) && !batch.relation_established && batch.stage === 'PERSISTED';

/** No client owes a control file: a deployment that does not say otherwise (and the chain's tests). */
const NONE_OWED: ReadonlySet<string> = new Set();

/**
 * Links a batch's four files, lists what could not be linked, and holds the findings to the data-quality rules: a
 * batch that fails them is FAILED (no transformer runs, no event is published); otherwise the relations are marked
 * established (which snapshots the transformer registry for the batch). A replayed or superseded record finds the
 * batch moved on and does nothing.
 */
export const createHandler = ({ metastore, database, lineage, quality: rules, control = NONE_OWED }: StepDeps & { quality: QualityConfig; control?: ReadonlySet<string> }) =>
  recordedStreamHandler({ name: 'relationship', recordFailure: metastore.recordFailure, lineage }, async (seen, run) => {
    const batch = await metastore.getBatch(seen.client, seen.batch_date);
    if (!batch || batch.generation !== seen.generation || !due(batch)) {
      logger.info('skipped', { reason: 'relations already established or batch moved on', stage: batch?.stage });
      return;
    }
    // Every file must match the batch's control file, and a client that owes one waits for it (docs/persistence.md);
    // recording a reconciliation changes the batch, which wakes this step again.
    const waiting = awaitingControl(batch, control.has(batch.client));
    if (waiting) {
      logger.info('relations wait for control totals', { reason: waiting });
      return;
    }
    await run.start(FILE_TYPES.map((type) => table(type)));
    await database.ensureSchema([...ddl, ...volumeDdl]);
    const started = Date.now();
    const { dataQuality, summary, volumes, history } = await database.inTransaction(async (db) => {
      const slice = [batch.client, isoBatchDate(batch)];
      await runStatements(db, 'relationship', statements, batch);
      const issues = await db.query<{ kind: string; n: number }>(issueCounts, [...slice, ISSUE_KINDS]);
      const links = await db.query<Record<string, number>>(linkCounts, slice);
      return {
        dataQuality: Object.fromEntries(issues.rows.map((r) => [r.kind, r.n])),
        summary: links.rows[0],
        volumes: await batchVolumes(db, batch.client, isoBatchDate(batch)),
        history: await volumeHistory(db, batch.client, isoBatchDate(batch)),
      };
    });
    const rows = Object.fromEntries(Object.entries(volumes).map(([type, v]) => [type, v.rows])) as Parameters<typeof measures>[2];
    const quality = evaluate(rules, batch.client, [...measures(batch, dataQuality, rows), ...volumeMeasures(volumes, history)]);
    // Counts and rule names only: the references that could not be linked stay in data_quality_issues.
    const findings = { quality: quality.outcome, override: quality.override, rules: quality.rules.filter((r) => r.outcome !== 'PASS').map((r) => `${r.rule}=${r.count}/${r.total}:${r.outcome}`) };
    // The rules judge the batch's files: each input carries their results.
    const assertions = qualityFacet(quality.rules.map((r) => ({ assertion: r.rule, success: r.outcome !== 'FAIL' })));
    const checked = FILE_TYPES.map((type) => table(type, { inputFacets: { dataQualityAssertions: assertions } }));
    if (quality.outcome === 'FAIL') {
      const failed = await metastore.markFailed(batch, 'relationship', failureReason(quality), { data_quality: dataQuality, quality });
      logger.warn(failed ? 'batch failed its data-quality rules' : 'result of an old generation discarded', findings);
      await run.complete([table('data_quality_issues')], checked);
      return;
    }
    await database.inTransaction((db) => recordVolumes(db, batch.client, isoBatchDate(batch), volumes));
    const state = { status: 'DONE' as const, generation: batch.generation, at: new Date().toISOString(), duration_ms: Date.now() - started, summary, digest: RELATIONSHIP_DIGEST };
    const next = await metastore.establishRelations(batch, state, dataQuality, quality);
    recordStepDuration(state.duration_ms);
    await run.complete([table('data_quality_issues'), table('portfolio_links', { outputFacets: { outputStatistics: rowCountFacet(Number(summary?.portfolios_linked ?? 0)) } })], checked);
    logger.info(next ? 'relations established' : 'result of an old generation discarded', { data_quality: dataQuality, ...findings, ...summary, stage: next?.stage });
  });

/** The clients whose delivery schedule owes a control file (shared/delivery-schedules.yml, as services/delivery reads it). */
export const ControlEnv = { DELIVERY_SCHEDULES: json(ControlOwed) };

export const handler = builtOnFirstEvent(() => {
  const { config, ...deps } = fromEnvironment(process.env, { ...QualityEnv, ...ControlEnv, ...ClientTrackingEnv });
  return createHandler({ ...deps, quality: { rules: config.QUALITY_RULES, overrides: config.QUALITY_OVERRIDES }, control: config.DELIVERY_SCHEDULES });
});
