import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { Batch, isoDate } from '@dataharvest/events/batch';
import { handleInOrder } from './batch-response';
import type { FailedRecordAt } from './failures';
import { lambda } from './handler';
import { logger } from './logger';
import { type Emit, LineageRun } from './openlineage';
import { maskValues, safeError } from './safe-error';

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
 * `process`, one record at a time and in order. A record that throws fails its batch item for the rest of the
 * invocation (later images of the same item are not handled before it), while the records of other items go on: a
 * poison record holds up only its own batch. The first failed record is reported as a partial batch failure together
 * with every record after it, so Lambda retries from there (the handled ones find their work done and skip). A record
 * that cannot be read at all stops the invocation there. The feed delivers at least once and may repeat or reorder
 * changes: `process` re-reads the item and acts on what it holds now, never on the image alone.
 * With `failures`, the failing batch and reason are recorded in the metastore first (a failure item, which no filter
 * matches), so `dataharvest failures` can name the batch of a record that ends in the on-failure queue.
 */
export function metastoreStreamHandler(process: (batch: Batch, run: LineageRun) => Promise<void>, failures?: FailureRecorder) {
  return lambda(
    async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> =>
      handleInOrder(
        event.Records,
        async (record) => {
          const batch = batchOf(record);
          // Registry entries and rejected keys share the table; filters keep them out, a direct invocation might not.
          if (!batch) return;
          let run: LineageRun | undefined;
          try {
            logger.appendKeys({ client: batch.client, batch_date: batch.batch_date, generation: batch.generation });
            // A step that takes the batch on starts the run (its inputs); one that skips it reports nothing.
            run = new LineageRun(failures?.lineage, failures?.name ?? 'step', batch);
            await process(batch, run);
            await run.complete([]);
          } catch (error) {
            logger.error('record failed', { error: safeError(error) });
            await run?.fail(`${(error as Error).name}: ${maskValues((error as Error).message)}`);
            if (failures) await recordFailure(failures, batch, record, error as Error);
            throw error;
          } finally {
            logger.removeKeys(BATCH_KEYS);
          }
        },
        {
          keyOf: (record) => {
            try {
              const batch = batchOf(record);
              return batch && itemKey(batch);
            } catch (error) {
              logger.error('record failed', { error: safeError(error) });
              throw error;
            }
          },
        },
      ),
  );
}

/** The batch a record's item change holds, or nothing for another item; throws for a record that cannot be read. */
function batchOf(record: KinesisStreamRecord): Batch | undefined {
  const change = itemChange(record);
  return isBatchItem(change) ? Batch.parse(unmarshall(change.dynamodb.NewImage!)) : undefined;
}

const itemKey = (batch: Batch) => `${batch.client}/${batch.batch_date}`;

/** A change-feed handler that records the batch and reason of each failing record (`metastoreStreamHandler`). */
export const recordedStreamHandler = (failures: FailureRecorder, process: (batch: Batch, run: LineageRun) => Promise<void>) => metastoreStreamHandler(process, failures);

/** Who records a failing batch: the function's name and the metastore's failure log; and where its run events go. */
export interface FailureRecorder {
  name: string;
  recordFailure(batch: Batch, fn: string, reason: string, at?: FailedRecordAt): Promise<unknown>;
  lineage?: Emit;
}

/** The record's shard is the first part of its event id (`shardId-…:<sequence number>`). */
const recordAt = (record: KinesisStreamRecord): FailedRecordAt => ({ shardId: record.eventID.split(':')[0]!, sequenceNumber: record.kinesis.sequenceNumber });

/** A failure item that cannot be written must not hide the failure itself: the platform retries the record anyway. */
async function recordFailure(failures: FailureRecorder, batch: Batch, record: KinesisStreamRecord, error: Error): Promise<void> {
  try {
    await failures.recordFailure(batch, failures.name, `${error.name}: ${maskValues(error.message)}`, recordAt(record));
  } catch (recordError) {
    logger.error('could not record the failure in the metastore', { error: safeError(recordError) });
  }
}

/** PostgreSQL wants the batch date as a DATE; the metastore keeps YYYYMMDD. */
export const isoBatchDate = (batch: Pick<Batch, 'batch_date'>) => isoDate(batch.batch_date);
