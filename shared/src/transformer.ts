import type pg from 'pg';
import type { Batch, Contribution, TransformerState } from '@dataharvest/events/batch';
import { codeDigest } from '@dataharvest/events/lineage';
import type { FieldType } from '@dataharvest/events/portfolio-event';
import { ClientTrackingEnv } from './client-tracking';
import { fromEnvironment, type StepDeps } from './environment';
import { builtOnFirstEvent } from './handler';
import { logger } from './logger';
import { rowCountFacet, table } from './openlineage';
import { recordStepDuration } from './metrics';
import { maskValues } from './safe-error';
import { isDataError } from './pg';
import { isoBatchDate, recordedStreamHandler } from './stream-handler';

export interface TransformerDefinition {
  name: string;
  /** CREATE TABLE IF NOT EXISTS … for the transformer's own result tables, run once per container. */
  ddl: string[];
  /**
   * Set-based statements that replace the batch's results; $1 is the client, $2 the batch date. They run in one
   * transaction, so a re-run gives identical tables and a failure leaves the previous results.
   */
  statements: string[];
  /**
   * For results that later batches of the client build on (running totals): a query ($1, $2) returning one row with
   * one non-null text column, `fingerprint`, of this batch's part in them. When a run changes it from what the
   * metastore recorded (a correction, or an earlier batch arriving after later ones), every later batch of the client
   * is computed again and re-published.
   */
  laterBatchesBuildOn?: string;
  /**
   * What the transformer adds to each portfolio's event: a SELECT of client, batch_date, portfolio_reference and the
   * declared fields (one row per linked portfolio), which the toolkit keeps as the view `<name>_event_fields`. The
   * catapult joins the views of every transformer the batch required; field names are the transformer's own.
   */
  contributes?: { select: string; fields: Record<string, FieldType> };
}

/** The registry's record of a definition's contribution: its view, field types and the definition's code digest. */
export function contributionOf(definition: TransformerDefinition): Contribution | undefined {
  return definition.contributes && { view: `${definition.name.replaceAll('-', '_')}_event_fields`, fields: definition.contributes.fields, digest: definitionDigest(definition) };
}

/** A definition's version: the digest of its SQL, which is what computes its figures (events/src/lineage.ts). */
export const definitionDigest = (d: TransformerDefinition) => codeDigest(d.name, d.ddl, d.statements, d.laterBatchesBuildOn ?? null, d.contributes ?? null);

/** The tables a definition's statements read and write, for its lineage runs (names as its SQL spells them). */
export function datasetsOf(definition: TransformerDefinition): { reads: string[]; writes: string[] } {
  const sql = definition.statements.join('\n');
  const found = (pattern: RegExp) => [...new Set([...sql.matchAll(pattern)].map((m) => m[1]!.toLowerCase()))].sort();
  const writes = found(/\bINSERT\s+INTO\s+([a-z_][a-z0-9_]*)/gi);
  // Named subqueries (WITH x AS (…)) and functions (FROM unnest(…)) are no datasets.
  const named = found(/\b([a-z_][a-z0-9_]*)\s+AS\s*\(/gi);
  const reads = found(/\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)\b(?!\s*\()/gi).filter((t) => !writes.includes(t) && !named.includes(t));
  return { reads, writes };
}

/** The definition's DDL, its contribution's view last (it reads the tables above it). */
export function schemaOf(definition: TransformerDefinition): string[] {
  const contribution = contributionOf(definition);
  return contribution ? [...definition.ddl, `CREATE OR REPLACE VIEW ${contribution.view} AS ${definition.contributes!.select}`] : definition.ddl;
}

/**
 * Plans the rest of the transaction for whole slices. A slice just written (or loaded) has no statistics yet, so the
 * planner guesses a handful of rows and picks nested loops, which go quadratic at a million rows; hash joins suit
 * every size here. Sorts and hashes over a slice's 100k accounts outgrow the default 4 MB and would spill to disk.
 */
export async function planForSlices(db: pg.ClientBase): Promise<void> {
  await db.query('SET LOCAL enable_nestloop = off');
  await db.query("SET LOCAL work_mem = '64MB'");
}

/**
 * Runs one step's statements for one batch inside the caller's transaction and returns the rows they wrote. The lock
 * serialises two runs over the same slice (a replay racing a backfill), so delete-then-insert never collides. The
 * batch's generation is there for results that record it: `current_setting('dataharvest.generation')::int`.
 */
export async function runStatements(db: pg.ClientBase, step: string, statements: string[], batch: Batch): Promise<number> {
  const params = [batch.client, isoBatchDate(batch)];
  await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`dataharvest:${step}:${params.join('/')}`]);
  await db.query("SELECT set_config('dataharvest.generation', $1, true)", [String(batch.generation)]);
  await planForSlices(db);
  let rows = 0;
  for (const sql of statements) rows += (await db.query(sql, params)).rowCount ?? 0;
  return rows;
}

/** Why a transformer leaves a batch alone, judged on the batch as the metastore holds it now; undefined = run. */
function skipReason(name: string, seen: Batch, current: Batch | undefined): string | undefined {
  if (!current || current.generation !== seen.generation) return 'stale generation';
  if (!current.relation_established) return 'relations not established';
  const mine = current.transformers[name];
  if (mine?.status === 'DONE' && mine.generation === current.generation) return 'already done for this generation';
  // Its data cannot go through this SQL: only a new generation (a corrected upload, a redrive) runs it again.
  if (mine?.status === 'FAILED' && mine.generation === current.generation) return 'failed for this generation';
  return undefined;
}

/**
 * The stream handler of a transformer service. Every status write of a sibling transformer re-delivers the batch,
 * and streams replay, so it reads the batch first and runs only for the current generation when not yet done; then
 * it runs the SQL in one transaction and records DONE with a conditional update (the last one moves the batch on).
 */
export function createTransformer(definition: TransformerDefinition, { metastore, database, lineage }: StepDeps) {
  const { name } = definition;
  const { reads, writes } = datasetsOf(definition);
  return recordedStreamHandler({ name, recordFailure: metastore.recordFailure, lineage }, async (seen, run) => {
    const current = await metastore.getBatch(seen.client, seen.batch_date);
    const reason = skipReason(name, seen, current);
    if (reason) {
      logger.info('skipped', { transformer: name, reason });
      return;
    }
    await run.start(reads.map((t) => table(t)));
    await database.ensureSchema(schemaOf(definition));
    const started = Date.now();
    let rows: number;
    let fingerprint: string | undefined;
    try {
      rows = await database.inTransaction(async (db) => {
        const written = await runStatements(db, name, definition.statements, seen);
        if (definition.laterBatchesBuildOn) {
          fingerprint = (await db.query<{ fingerprint: string }>(definition.laterBatchesBuildOn, [seen.client, isoBatchDate(seen)])).rows[0]!.fingerprint;
        }
        return written;
      });
    } catch (error) {
      if (!isDataError(error)) throw error; // the platform retries, then the on-failure queue keeps the record
      // The batch's data cannot go through this SQL (an overflow, a broken constraint): retrying cannot help.
      const reason = `${name}: ${maskValues((error as Error).message)}`;
      await metastore.recordTransformer(seen, name, { status: 'FAILED', generation: seen.generation, at: new Date().toISOString(), duration_ms: Date.now() - started, reason });
      await metastore.markFailed(seen, name, reason);
      logger.error('transformer failed on the batch data', { transformer: name, reason });
      await run.fail(reason);
      return;
    }
    // Later batches were computed from the figures the metastore last recorded for this one. When they changed, the
    // later batches go round again before this result is recorded, so a failure in between retries both.
    if (fingerprint !== undefined && fingerprint !== current?.fingerprints?.[name]) {
      const rerun = await metastore.rerunLaterBatches(seen.client, seen.batch_date);
      if (rerun.length) logger.info('later batches run again on the changed figures', { transformer: name, batch_dates: rerun });
    }
    const state: TransformerState = {
      status: 'DONE',
      generation: seen.generation,
      at: new Date().toISOString(),
      duration_ms: Date.now() - started,
      summary: { rows_written: rows },
      digest: definitionDigest(definition),
    };
    const next = await metastore.recordTransformer(seen, name, state, fingerprint);
    // The statements' row count is the step's, not a table's: it goes with every table written.
    await run.complete(writes.map((t) => table(t, { outputFacets: { outputStatistics: rowCountFacet(rows) } })));
    recordStepDuration(state.duration_ms ?? 0);
    logger.info(next ? 'transformer done' : 'result of an old generation discarded', { transformer: name, stage: next?.stage, rows_written: rows });
  });
}

/** A transformer service's Lambda handler: the metastore and database its function's environment names. */
export const transformerHandler = (definition: TransformerDefinition) => builtOnFirstEvent(() => createTransformer(definition, fromEnvironment(process.env, ClientTrackingEnv)));
