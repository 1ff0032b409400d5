import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { Batch } from '@dataharvest/events/batch';
import { lambda } from './handler';
import { logger } from './logger';

/**
 * A metastore-stream handler: each record's NewImage is parsed into a Batch and handed to `process` one at a
 * time; a record that throws is reported as a partial batch failure, so Lambda retries from it and nothing after
 * it is lost (records of a shard stay in order).
 */
export function metastoreStreamHandler(process: (batch: Batch) => Promise<void>) {
  return lambda(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const record of event.Records) {
      const image = record.dynamodb?.NewImage;
      if (!image) continue;
      try {
        const batch = Batch.parse(unmarshall(image as Record<string, AttributeValue>));
        logger.appendKeys({ client: batch.client, batch_date: batch.batch_date, generation: batch.generation });
        await process(batch);
      } catch (error) {
        logger.error('record failed', { error: error as Error });
        return { batchItemFailures: [{ itemIdentifier: record.dynamodb!.SequenceNumber! }] };
      } finally {
        logger.removeKeys(['client', 'batch_date', 'generation']);
      }
    }
    return { batchItemFailures: [] };
  });
}

/** PostgreSQL wants the batch date as a DATE; the metastore keeps YYYYMMDD. */
export const isoBatchDate = (batch: Batch) => `${batch.batch_date.slice(0, 4)}-${batch.batch_date.slice(4, 6)}-${batch.batch_date.slice(6, 8)}`;
