import { z } from 'zod';
import { readConfig } from '@dataharvest/shared/config';
import { logger } from '@dataharvest/shared/logger';
import { getBatch, listRegistry, markComplete } from '@dataharvest/shared/metastore';
import { inTransaction } from '@dataharvest/shared/pg';
import { metastoreStreamHandler } from '@dataharvest/shared/stream-handler';
import { portfolioEvents } from './portfolio-events';
import { publish } from './publish';

const config = readConfig({ EVENTS_STREAM: z.string().min(1) });

/**
 * When every required transformer is done, one event per portfolio goes to the output stream, then the batch is
 * COMPLETE. Idempotence comes from the metastore: a replayed record finds the batch COMPLETE (or in a newer
 * generation) and publishes nothing, while a backfill that brings the batch back to TRANSFORMED publishes again, as
 * it should. A crash between publishing and COMPLETE republishes the same version with the same event ids, which
 * consumers drop as duplicates.
 */
export const handler = metastoreStreamHandler(async (seen) => {
  const batch = await getBatch(seen.client, seen.batch_date);
  if (batch?.stage !== 'TRANSFORMED' || batch.generation !== seen.generation) {
    logger.info('skipped', { reason: 'batch no longer TRANSFORMED in this generation', stage: batch?.stage });
    return;
  }
  // What each transformer the batch required adds to the events, as it registered it.
  const required = new Set(batch.required_transformers ?? []);
  const contributions = (await listRegistry()).flatMap((e) => (required.has(e.name) && e.contribution ? [e.contribution] : []));
  const published = await inTransaction(async (db) => {
    let count = 0;
    for await (const events of portfolioEvents(db, batch, contributions)) {
      await publish(config.EVENTS_STREAM, events);
      count += events.length;
    }
    return count;
  });
  const next = await markComplete(batch, published);
  logger.info(next ? 'events published, batch complete' : 'events published for a batch that moved on', { events: published });
});
