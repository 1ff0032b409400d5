import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { awsClients } from '@dataharvest/shared/aws';
import { readConfig } from '@dataharvest/shared/config';
import { DeliveryEnv } from '@dataharvest/shared/delivery-schedule';
import { builtOnFirstEvent, lambda } from '@dataharvest/shared/handler';
import { logger } from '@dataharvest/shared/logger';
import { createMetastore, MetastoreEnv } from '@dataharvest/shared/metastore';
import { metrics, recordStageTime } from '@dataharvest/shared/metrics';
import { oldestInStage, PIPELINE_STAGES } from '@dataharvest/shared/stage-time';
import type { ScheduledEvent } from 'aws-lambda';
import { findLate } from './check';

/**
 * The delivery check, on a schedule: records each scheduled client's batch whose cut-off passed with files owed as
 * LATE, naming them (the notifier tells, an alarm watches DeliveriesLate). It records and never directs: files that
 * arrive later continue the chain as usual. Its time is the event's, the minute the rule fired for.
 */
export const handler = builtOnFirstEvent(() => {
  const config = readConfig({ ...MetastoreEnv, ...DeliveryEnv }, process.env);
  const metastore = createMetastore(awsClients().dynamo, config.METASTORE_TABLE, undefined, recordStageTime);
  return lambda(async (event: ScheduledEvent) => {
    const now = new Date(event.time);
    const findings = await findLate(config.DELIVERY_SCHEDULES, now, (client, date) => metastore.getBatch(client, date));
    let recorded = 0;
    for (const f of findings) {
      if (await metastore.markLate(f.client, f.batchDate, { cut_off: f.cutOff, missing: f.missing, at: now.toISOString() }, f.absent)) recorded++;
    }
    metrics.addMetric('DeliveriesLate', MetricUnit.Count, recorded);
    // A batch that never leaves a pipeline stage sends no transition's metric: its age, every run, reaches the same alarm.
    for (const stage of PIPELINE_STAGES) {
      const oldest = oldestInStage(stage, await metastore.listByStage(stage), now);
      if (oldest) recordStageTime(oldest);
    }
    // Counts only: client codes are customers' references.
    logger.info('delivery check', { at: event.time, scheduled: Object.keys(config.DELIVERY_SCHEDULES).length, late: recorded });
    return { late: recorded };
  });
});
