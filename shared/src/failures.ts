import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand, type QueryCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Batch } from '@dataharvest/events/batch';
import { FailureRecord, failureKey } from '@dataharvest/events/failure';
import limits from '../limits.json' with { type: 'json' };

/**
 * The maximumRetryAttempts of the change-feed mappings whose handler records failure items (shared/limits.json,
 * which their serverless.yml reads too): a record that failed this many times more than once is in its on-failure
 * queue. A partial batch failure retries from the failed record, so the handler sees each of its attempts.
 */
export const STREAM_MAXIMUM_RETRY_ATTEMPTS: number = limits.streamRetryAttempts;

/** A reason is kept this long: an error message can be long, the item stays small. */
const MAX_REASON = 1000;

/** Sequence numbers kept per failure item: enough to map every queue message of one generation back to it. */
const MAX_SEQUENCE_NUMBERS = 20;

/** Where a failed change-feed record sits, from the Kinesis record Lambda delivered. */
export interface FailedRecordAt {
  shardId: string;
  sequenceNumber: string;
}

/** Where a change-feed record sits: its shard is the first part of its event id (`shardId-…:<sequence number>`). */
export const failedRecordAt = (record: { eventID: string; kinesis: { sequenceNumber: string } }): FailedRecordAt => ({
  shardId: record.eventID.split(':')[0]!,
  sequenceNumber: record.kinesis.sequenceNumber,
});

/**
 * The metastore's failure items (events/src/failure.ts): one per client, batch date and function, written by the
 * handler on each failed attempt. Not batch items, so no change-feed filter wakes on them.
 */
export function createFailureLog(dynamo: DynamoDBDocumentClient, tableName: string) {
  async function getFailure(client: string, batchDate: string, fn: string): Promise<FailureRecord | undefined> {
    const out = await dynamo.send(new GetCommand({ TableName: tableName, Key: failureKey(client, batchDate, fn), ConsistentRead: true }));
    return out.Item ? FailureRecord.parse(out.Item) : undefined;
  }

  /**
   * Records one failed attempt of `fn` on the batch. A new generation starts the count again; the attempts of one
   * stream record decide whether it gave up (a later record of the same batch never un-gives-up an earlier one).
   * Failures are rare: a read and a write, no condition (one shard handles a batch's records one at a time). The
   * write is an UpdateItem, which the functions' roles already allow on the table.
   */
  async function recordFailure(batch: Pick<Batch, 'client' | 'batch_date' | 'generation'>, fn: string, reason: string, at?: FailedRecordAt): Promise<FailureRecord> {
    const seen = new Date().toISOString();
    const before = await getFailure(batch.client, batch.batch_date, fn);
    const same = before && before.generation === batch.generation ? before : undefined;
    const recordAttempts = same && at && same.sequence_number === at.sequenceNumber ? (same.record_attempts ?? 0) + 1 : 1;
    const sequenceNumbers = [...new Set([...(same?.sequence_numbers ?? []), ...(at ? [at.sequenceNumber] : [])])].slice(-MAX_SEQUENCE_NUMBERS);
    const key = failureKey(batch.client, batch.batch_date, fn);
    const item: FailureRecord & { gsi1pk: string; gsi1sk: string } = {
      ...key,
      client: batch.client,
      batch_date: batch.batch_date,
      function: fn,
      generation: batch.generation,
      reason: reason.slice(0, MAX_REASON),
      attempts: (same?.attempts ?? 0) + 1,
      first_seen: same?.first_seen ?? seen,
      last_seen: seen,
      gave_up: (same?.gave_up ?? false) || recordAttempts > STREAM_MAXIMUM_RETRY_ATTEMPTS,
      ...(at ? { shard_id: at.shardId, sequence_number: at.sequenceNumber, sequence_numbers: sequenceNumbers } : {}),
      record_attempts: recordAttempts,
      gsi1pk: FAILURE_INDEX,
      gsi1sk: `${batch.batch_date}#${batch.client}#${fn}`,
    };
    const fields = Object.entries(item).filter(([name]) => name !== 'pk' && name !== 'sk');
    await dynamo.send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: `SET ${fields.map((_, i) => `#n${i} = :v${i}`).join(', ')}${at ? '' : ' REMOVE shard_id, sequence_number, sequence_numbers'}`,
        ExpressionAttributeNames: Object.fromEntries(fields.map(([name], i) => [`#n${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(fields.map(([, value], i) => [`:v${i}`, value])),
      }),
    );
    return FailureRecord.parse(item);
  }

  /** The failure items of one client (optionally one batch date), or of every client; oldest batch first. */
  async function listFailures(client?: string, batchDate?: string): Promise<FailureRecord[]> {
    const prefix = `FAILURE#${batchDate ?? ''}`;
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    // Without a client: a scan would read every batch; failure items are few, so the query runs per client known.
    const clients = client ? [client] : await failingClients();
    for (const c of clients) {
      const input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'> = {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `CLIENT#${c}`, ':prefix': prefix },
        ConsistentRead: true,
      };
      do {
        const out = await dynamo.send(new QueryCommand({ ...input, TableName: tableName, ExclusiveStartKey: start }));
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    }
    return items.map((i) => FailureRecord.parse(i));
  }

  /**
   * Every client's failure items in one query of the by-stage index's FAILURE partition (projected whole), however
   * many clients there are: for a view polled again a moment later (the status console), as an index follows its
   * table with a short lag. `listFailures` reads each item from the table itself.
   */
  async function listFailuresFromIndex(): Promise<FailureRecord[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await dynamo.send(
        new QueryCommand({ TableName: tableName, IndexName: 'by-stage', KeyConditionExpression: 'gsi1pk = :g', ExpressionAttributeValues: { ':g': FAILURE_INDEX }, ExclusiveStartKey: start }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.map((i) => FailureRecord.parse(i));
  }

  /** Clients with a failure item, through the by-stage index's FAILURE partition. */
  async function failingClients(): Promise<string[]> {
    return [...new Set((await listFailuresFromIndex()).map((f) => f.client))].sort();
  }

  /** Removes a failure item once its records were redriven (or superseded by a newer generation). */
  async function clearFailure(failure: Pick<FailureRecord, 'client' | 'batch_date' | 'function'>): Promise<void> {
    await dynamo.send(new DeleteCommand({ TableName: tableName, Key: failureKey(failure.client, failure.batch_date, failure.function) }));
  }

  return { recordFailure, listFailures, listFailuresFromIndex, clearFailure };
}

/** The by-stage index partition failure items sit in, so every client's failures can be listed without a scan. */
const FAILURE_INDEX = 'FAILURES';
