import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { Batch, isoDate } from '@dataharvest/events/batch';
import { lambda } from './handler';
import { logger } from './logger';

const BATCH_KEYS = ['client', 'batch_date', 'generation'];
const isBatchItem = (record: DynamoDBRecord) => record.dynamodb?.NewImage?.sk?.S?.startsWith('BATCH#') ?? false;

/**
 * A metastore-stream handler: each batch item's NewImage is parsed into a Batch and handed to `process`, one
 * record at a time and in order. The first record that throws is reported as a partial batch failure together with
 * every record after it, so Lambda retries from there and a batch's images are never handled out of order.
 */
export function metastoreStreamHandler(process: (batch: Batch) => Promise<void>) {
  return lambda(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const [i, record] of event.Records.entries()) {
      // Registry entries and rejected keys share the table; filters keep them out, a direct invocation might not.
      if (!isBatchItem(record)) continue;
      try {
        const batch = Batch.parse(unmarshall(record.dynamodb!.NewImage as Record<string, AttributeValue>));
        logger.appendKeys({ client: batch.client, batch_date: batch.batch_date, generation: batch.generation });
        await process(batch);
      } catch (error) {
        logger.error('record failed', { error: error as Error });
        return { batchItemFailures: event.Records.slice(i).map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber! })) };
      } finally {
        logger.removeKeys(BATCH_KEYS);
      }
    }
    return { batchItemFailures: [] };
  });
}

/** PostgreSQL wants the batch date as a DATE; the metastore keeps YYYYMMDD. */
export const isoBatchDate = (batch: Pick<Batch, 'batch_date'>) => isoDate(batch.batch_date);
