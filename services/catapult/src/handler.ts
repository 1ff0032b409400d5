import { readConfig } from '@dataharvest/shared/config';
import { logger } from '@dataharvest/shared/logger';
import { getBatch, markComplete } from '@dataharvest/shared/metastore';
import { pgPool } from '@dataharvest/shared/pg';
import { metastoreStreamHandler } from '@dataharvest/shared/stream-handler';
import { z } from 'zod';
import { portfolioEvents } from './portfolio-events';
import { publish } from './publish';

const config = readConfig({ EVENTS_STREAM: z.string().min(1) });

/**
 * When every transformer is done, one event per portfolio goes to the output stream, then the batch is COMPLETE.
 * A replayed record finds the batch already COMPLETE (or in a newer generation) and publishes nothing; a crash
 * between publishing and COMPLETE republishes the same version, which consumers treat as a duplicate.
 */
export const handler = metastoreStreamHandler(async (seen) => {
  const batch = await getBatch(seen.client, seen.batch_date);
  if (!batch || batch.stage !== 'TRANSFORMED' || batch.generation !== seen.generation) return;
  const db = await pgPool().connect();
  const events = await portfolioEvents(db, batch).finally(() => db.release());
  await publish(config.EVENTS_STREAM, events);
  await markComplete(batch, events.length);
  logger.info('events published', { events: events.length });
});
