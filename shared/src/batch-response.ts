import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';

/** How a failed record bears on the records after it in the same invocation. */
export interface InOrderOptions {
  /**
   * Skip the key: a record that fails holds up only the later records of its key (e.g. one batch item's later
   * images), and the records of other keys go on. `undefined` for a record that has no key: its failure stops the
   * invocation there, as does a key that cannot be read. Without `keyOf`, the first failure stops the invocation.
   */
  keyOf?: (record: KinesisStreamRecord) => string | undefined;
}

/**
 * Handles a Kinesis batch's records one at a time and in order, and answers with the partial batch response
 * (`ReportBatchItemFailures`): the first failed record and every record after it, so Lambda checkpoints the ones
 * before and retries from there, and a shard's records are never handled out of order. Records after the first
 * failure that were handled find their work done when retried. `handle` logs and records its own failure and
 * rethrows it.
 */
export async function handleInOrder(records: KinesisStreamRecord[], handle: (record: KinesisStreamRecord) => Promise<void>, options: InOrderOptions = {}): Promise<KinesisStreamBatchResponse> {
  const failedKeys = new Set<string>();
  let firstFailed: number | undefined;
  for (const [i, record] of records.entries()) {
    let key: string | undefined;
    try {
      key = options.keyOf?.(record);
    } catch {
      return failedFrom(records, firstFailed ?? i);
    }
    if (key !== undefined && failedKeys.has(key)) continue;
    try {
      await handle(record);
    } catch {
      if (key === undefined) return failedFrom(records, firstFailed ?? i);
      failedKeys.add(key);
      firstFailed ??= i;
    }
  }
  return failedFrom(records, firstFailed);
}

/** The response that reports `records[from]` and every record after it; none without `from`. */
const failedFrom = (records: KinesisStreamRecord[], from: number | undefined): KinesisStreamBatchResponse => ({
  batchItemFailures: from === undefined ? [] : records.slice(from).map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })),
});
