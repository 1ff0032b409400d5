import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { z } from 'zod';
import { ClientTrackingEnv } from '@dataharvest/shared/client-tracking';
import { fromEnvironment, type StepDeps } from '@dataharvest/shared/environment';
import { builtOnFirstEvent } from '@dataharvest/shared/handler';
import { logger } from '@dataharvest/shared/logger';
import { rowCountFacet, table } from '@dataharvest/shared/openlineage';
import { recordBatchComplete } from '@dataharvest/shared/metrics';
import { recordedStreamHandler } from '@dataharvest/shared/stream-handler';
import { portfolioEvents } from './portfolio-events';
import { publish } from './publish';

export interface CatapultDeps extends StepDeps {
  kinesis: KinesisClient;
  /** The output stream the events go to. */
  eventsStream: string;
}

/**
 * When every required transformer is done, one event per portfolio goes to the output stream, then the batch is
 * COMPLETE. Idempotence comes from the metastore: a replayed record finds the batch COMPLETE (or in a newer
 * generation) and publishes nothing, while a backfill that brings the batch back to TRANSFORMED publishes again, as
 * it should. A crash between publishing and COMPLETE republishes the same version with the same event ids, which
 * consumers drop as duplicates.
 */
export const createHandler = ({ metastore, database, lineage, kinesis, eventsStream }: CatapultDeps) =>
  recordedStreamHandler({ name: 'catapult', recordFailure: metastore.recordFailure, lineage }, async (seen, run) => {
    const batch = await metastore.getBatch(seen.client, seen.batch_date);
    if (batch?.stage !== 'TRANSFORMED' || batch.generation !== seen.generation) {
      logger.info('skipped', { reason: 'batch no longer TRANSFORMED in this generation', stage: batch?.stage });
      return;
    }
    // What each transformer the batch required adds to the events, as it registered it.
    const required = new Set(batch.required_transformers ?? []);
    const contributions = (await metastore.listRegistry()).flatMap((e) => (required.has(e.name) && e.contribution ? [e.contribution] : []));
    await run.start([table('portfolio_links'), ...contributions.map((c) => table(c.view))]);
    const published = await database.inTransaction(async (db) => {
      let count = 0;
      for await (const events of portfolioEvents(db, batch, contributions)) {
        await publish(kinesis, eventsStream, events);
        count += events.length;
      }
      return count;
    });
    const next = await metastore.markComplete(batch, published);
    await run.complete([{ namespace: 'kinesis://dataharvest', name: eventsStream, outputFacets: { outputStatistics: rowCountFacet(published) } }]);
    if (next) recordBatchComplete(batch.created_at);
    logger.info(next ? 'events published, batch complete' : 'events published for a batch that moved on', { events: published });
  });

export const handler = builtOnFirstEvent(() => {
  const { config, aws, ...deps } = fromEnvironment(process.env, { ...ClientTrackingEnv, EVENTS_STREAM: z.string().min(1) });
  return createHandler({ ...deps, kinesis: aws.kinesis, eventsStream: config.EVENTS_STREAM });
});
