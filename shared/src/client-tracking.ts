import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { FileDetail, FileType } from '@dataharvest/events/batch';
import { z } from 'zod';

/**
 * The per-client tracking table (docs/metastore.md): one item per client, keyed `client`, changed only by single
 * UpdateItem calls with ADD, DELETE and conditional SET, never read-modify-write. Batches in flight are a string set
 * of batch dates, so starting or ending a batch twice changes nothing; counters are added only by callers that know
 * the transition happened once (the metastore client, after its conditional write succeeded).
 */
export const ClientTrackingEnv = { CLIENT_TRACKING_TABLE: z.string().min(1) };

/** How a batch left the pipeline's flight: done, failed by a step, or waiting for a corrected file. */
export type BatchEnd = 'COMPLETE' | 'FAILED' | 'REJECTED';

/** A tracking item as stored; counters a client has not reached yet are absent. */
export const ClientTrackingItem = z.object({
  client: z.string(),
  in_flight: z.set(z.string()).optional(),
  last_complete_batch: z.string().optional(),
  files: z.number().optional(),
  rows: z.number().optional(),
  bytes: z.number().optional(),
  failures: z.number().optional(),
  day: z.string().optional(),
  files_today: z.number().optional(),
  failures_today: z.number().optional(),
  rows_today: z.number().optional(),
  bytes_today: z.number().optional(),
  chunks_in_flight: z.number().optional(),
  last_error: z.object({ at: z.string(), batch_date: z.string(), what: z.string() }).optional(),
  updated_at: z.string().optional(),
});
export type ClientTrackingItem = z.infer<typeof ClientTrackingItem>;

export type ClientTracking = ReturnType<typeof createClientTracking>;

/** The tracking client on one table; `clock` is injectable so that a day change can be tested. */
export function createClientTracking(dynamo: DynamoDBDocumentClient, tableName: string, clock: () => Date = () => new Date()) {
  async function update(client: string, input: Omit<UpdateCommandInput, 'TableName' | 'Key'>): Promise<boolean> {
    try {
      await dynamo.send(new UpdateCommand({ ...input, TableName: tableName, Key: { client } }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Adds to the total and today's counters in one update. Today's counters belong to `day`: the first writer of a
   * new day resets them (conditional on the stored day being older), a writer whose day is already past adds to the
   * totals only. Extra SET/ADD/DELETE clauses ride along in every attempt. `totalsOf` adds other amounts to the totals
   * than to today's counters (a replaced upload's figures leave the totals, not what was loaded today).
   */
  async function count(client: string, counters: Record<string, number>, extra: { set?: string[]; add?: string[]; values?: Record<string, unknown> } = {}, totalsOf = counters) {
    const at = clock().toISOString();
    const day = at.slice(0, 10);
    const names = Object.keys(counters);
    const totalValues = { ...extra.values, ...Object.fromEntries(names.map((n) => [`:total_${n}`, totalsOf[n] ?? counters[n]])), ':at': at };
    const values = { ...totalValues, ...Object.fromEntries(names.map((n) => [`:${n}`, counters[n]])) };
    // Counter names such as `rows` and `bytes` are reserved words: every one goes through a placeholder.
    const totalNames = Object.fromEntries(names.map((n) => [`#${n}`, n]));
    const todayNames = Object.fromEntries(names.map((n) => [`#${n}_today`, `${n}_today`]));
    const totals = names.map((n) => `#${n} :total_${n}`);
    const today = names.map((n) => `#${n}_today :${n}`);
    const set = ['updated_at = :at', ...(extra.set ?? [])];
    const add = extra.add ?? [];
    const clauses = (sets: string[], adds: string[]) => [`SET ${[...set, ...sets].join(', ')}`, ...(adds.length || add.length ? [`ADD ${[...adds, ...add].join(', ')}`] : [])].join(' ');
    const dated = { ExpressionAttributeNames: { ...totalNames, ...todayNames, '#day': 'day' }, ExpressionAttributeValues: { ...values, ':day': day } };
    const sameDay = { UpdateExpression: clauses([], [...totals, ...today]), ConditionExpression: '#day = :day', ...dated };
    if (await update(client, sameDay)) return;
    const reset = names.map((n) => `#${n}_today = :${n}`);
    const newDay = { UpdateExpression: clauses(['#day = :day', ...reset], totals), ConditionExpression: 'attribute_not_exists(#day) OR #day < :day', ...dated };
    if (await update(client, newDay)) return;
    // The stored day is today (another writer reset it meanwhile) or later (this writer's clock is behind).
    if (await update(client, sameDay)) return;
    await update(client, { UpdateExpression: clauses([], totals), ExpressionAttributeNames: totalNames, ExpressionAttributeValues: totalValues });
  }

  /**
   * One file's outcome, recorded once: a load counts its rows and bytes and puts the batch in flight; a refusal is a
   * failure; a chunked upload starting (LOADING) is neither yet. A load that replaces an earlier load of the file (a
   * corrected upload) takes the replaced one's file, rows and bytes out of the totals: they count what is loaded now.
   */
  async function fileSettled(client: string, batchDate: string, type: FileType, detail: FileDetail, replaced?: Pick<FileDetail, 'rows' | 'bytes'>): Promise<void> {
    if (detail.status === 'LOADING') return;
    if (detail.status === 'PERSISTED') {
      const loaded = { files: 1, rows: detail.rows, bytes: detail.bytes };
      const totals = replaced ? { files: 0, rows: detail.rows - replaced.rows, bytes: detail.bytes - replaced.bytes } : loaded;
      await count(client, loaded, { add: ['in_flight :batch'], values: { ':batch': new Set([batchDate]) } }, totals);
      return;
    }
    // The reason and row errors may quote values; the tracking item says only which file failed and how often.
    const what = `${type} file refused: ${detail.error_count ?? detail.errors.length} problem(s)`;
    await count(client, { failures: 1 }, { set: ['last_error = :error'], values: { ':error': { at: clock().toISOString(), batch_date: batchDate, what } } });
  }

  /** The batch is on its way through the pipeline (again): a set add, so a repeat changes nothing. */
  async function batchStarted(client: string, batchDate: string): Promise<void> {
    await update(client, { UpdateExpression: 'SET updated_at = :at ADD in_flight :batch', ExpressionAttributeValues: { ':at': clock().toISOString(), ':batch': new Set([batchDate]) } });
  }

  /** The batch left the pipeline; a COMPLETE one becomes the last complete batch unless a later date already is. */
  async function batchEnded(client: string, batchDate: string, end: BatchEnd, step?: string): Promise<void> {
    const at = clock().toISOString();
    const failed = end === 'FAILED' ? ', last_error = :error' : '';
    await update(client, {
      UpdateExpression: `SET updated_at = :at${failed} DELETE in_flight :batch`,
      ExpressionAttributeValues: { ':at': at, ':batch': new Set([batchDate]), ...(failed ? { ':error': { at, batch_date: batchDate, what: `batch failed at ${step ?? 'a step'}` } } : {}) },
    });
    if (end !== 'COMPLETE') return;
    await update(client, {
      UpdateExpression: 'SET last_complete_batch = :batch',
      ConditionExpression: 'attribute_not_exists(last_complete_batch) OR last_complete_batch < :batch',
      ExpressionAttributeValues: { ':batch': batchDate },
    });
  }

  /** Chunks of a file sent to the loaders; call once per file, when its chunks were recorded. */
  async function chunksQueued(client: string, chunks: number): Promise<void> {
    await update(client, { UpdateExpression: 'SET updated_at = :at ADD chunks_in_flight :n', ExpressionAttributeValues: { ':at': clock().toISOString(), ':n': chunks } });
  }

  /** One chunk loaded; call once per chunk, when its own done marker was written. */
  async function chunkDone(client: string): Promise<void> {
    await chunksQueued(client, -1);
  }

  /** Every client's item, page after page (one small item per client). */
  async function list(): Promise<ClientTrackingItem[]> {
    const items: ClientTrackingItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await dynamo.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
      items.push(...(out.Items ?? []).map((i) => ClientTrackingItem.parse(i)));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => a.client.localeCompare(b.client));
  }

  return { tableName, fileSettled, batchStarted, batchEnded, chunksQueued, chunkDone, list };
}
