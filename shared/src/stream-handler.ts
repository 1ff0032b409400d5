import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { Batch, isoDate } from '@dataharvest/events/batch';
import { lambda } from './handler';
import { logger } from './logger';

const BATCH_KEYS = ['client', 'batch_date', 'generation'];

/** One item change as Kinesis Data Streams for DynamoDB writes it: the record's data is this JSON. */
interface ItemChange {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  dynamodb: { Keys: Record<string, AttributeValue>; NewImage?: Record<string, AttributeValue>; OldImage?: Record<string, AttributeValue> };
}

const itemChange = (record: KinesisStreamRecord) => JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as ItemChange;
const isBatchItem = (change: ItemChange) => change.dynamodb.NewImage?.sk?.S?.startsWith('BATCH#') ?? false;

/**
 * A handler of the metastore's change feed: each batch item's NewImage is parsed into a Batch and handed to
 * `process`, one record at a time and in order. The first record that throws is reported as a partial batch failure
 * together with every record after it, so Lambda retries from there and a shard's changes are never handled out of
 * order. The feed delivers at least once and may repeat or reorder changes: `process` re-reads the item and acts on
 * what it holds now, never on the image alone.
 */
export function metastoreStreamHandler(process: (batch: Batch) => Promise<void>) {
  return lambda(async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    for (const [i, record] of event.Records.entries()) {
      try {
        const change = itemChange(record);
        // Registry entries and rejected keys share the table; filters keep them out, a direct invocation might not.
        if (!isBatchItem(change)) continue;
        const batch = Batch.parse(unmarshall(change.dynamodb.NewImage!));
        logger.appendKeys({ client: batch.client, batch_date: batch.batch_date, generation: batch.generation });
        await process(batch);
      } catch (error) {
        logger.error('record failed', { error: error as Error });
        return { batchItemFailures: event.Records.slice(i).map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })) };
      } finally {
        logger.removeKeys(BATCH_KEYS);
      }
    }
    return { batchItemFailures: [] };
  });
}

/** PostgreSQL wants the batch date as a DATE; the metastore keeps YYYYMMDD. */
export const isoBatchDate = (batch: Pick<Batch, 'batch_date'>) => isoDate(batch.batch_date);
