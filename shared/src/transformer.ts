import type pg from 'pg';
import type { Batch } from '@dataharvest/events/batch';
import { logger } from './logger';
import { recordTransformer } from './metastore';
import { inTransaction } from './pg';
import { isoBatchDate, metastoreStreamHandler } from './stream-handler';

export interface TransformerDefinition {
  name: string;
  /** CREATE TABLE IF NOT EXISTS … for the transformer's own result tables, run once per container. */
  ddl: string[];
  /**
   * Set-based statements that replace the batch's results; $1 is the client, $2 the batch date. They run in one
   * transaction, so a re-run gives identical tables and a failure leaves the previous results.
   */
  statements: string[];
}

let ready: Promise<void> | undefined;

/** Creates a service's result tables once per container; the lock keeps concurrent cold starts from racing. */
export async function ensureTables(ddl: string[]): Promise<void> {
  ready ??= inTransaction(async (db) => {
    await db.query("SELECT pg_advisory_xact_lock(hashtext('dataharvest:transformer-ddl'))");
    for (const statement of ddl) await db.query(statement);
  }).catch((error: unknown) => { ready = undefined; throw error; });
  await ready;
}

/** Runs the statements for one batch and returns how many rows each wrote. */
export async function runStatements(db: pg.ClientBase, statements: string[], batch: Batch): Promise<number[]> {
  const rows = [];
  for (const sql of statements) rows.push((await db.query(sql, [batch.client, isoBatchDate(batch)])).rowCount ?? 0);
  return rows;
}

/**
 * The stream handler of a transformer service: for a batch whose relations are established, runs the SQL unless
 * this generation is already done (replays and unrelated updates are no-ops), then records DONE for the generation.
 */
export function transformerHandler(definition: TransformerDefinition) {
  return metastoreStreamHandler(async (batch) => {
    const mine = batch.transformers[definition.name];
    if (batch.stage !== 'RELATED' || (mine?.status === 'DONE' && mine.generation === batch.generation)) return;
    await ensureTables(definition.ddl);
    const started = Date.now();
    const rows = await inTransaction((db) => runStatements(db, definition.statements, batch));
    const state = { status: 'DONE' as const, generation: batch.generation, at: new Date().toISOString(), duration_ms: Date.now() - started, summary: { rows_written: rows.reduce((a, b) => a + b, 0) } };
    const next = await recordTransformer(batch, definition.name, state);
    logger.info(next ? 'transformer done' : 'result of an old generation discarded', { transformer: definition.name, stage: next?.stage });
  });
}
