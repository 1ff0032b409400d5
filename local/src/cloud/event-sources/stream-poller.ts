import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { compileFilters, kinesisFilterView } from '../filter';
import { arn } from '../template';
import { sendToDestination } from './failure-destination';
import type { Position, Shard, SourceRecord, StreamSource } from './stream-sources';

export interface StreamPollerConfig {
  functionName: string; kind: 'dynamodb' | 'kinesis'; streamArn: string; batchSize: number; batchWindowSeconds: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST'; maxRetryAttempts: number /* -1: until the record expires */; bisectOnError: boolean;
  reportBatchItemFailures: boolean; filterPatterns: string[]; onFailureQueueUrl?: string; checkpointFile?: string;
}

interface Deps { source: StreamSource; sqs: SQSClient; invoke: (fn: string, event: unknown, source: string) => Promise<unknown>; log: (l: string) => void }

const POLL_MS = 100;
const RETRY_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An event source mapping for one function on one stream: every shard read in order, never two batches of a shard
 * at once; filtered, batched, retried, bisected and sent to the on-failure destination as Lambda does. The position
 * of each shard is checkpointed, so a restarted persistent cloud resumes instead of replaying.
 */
export function startStreamPoller(config: StreamPollerConfig, deps: Deps) {
  const matches = compileFilters(config.filterPatterns);
  const filterView = (r: SourceRecord) => (config.kind === 'kinesis' ? kinesisFilterView(r.event as never) : r.event);
  const checkpoints: Record<string, string> = config.checkpointFile && existsSync(config.checkpointFile) ? JSON.parse(readFileSync(config.checkpointFile, 'utf8')) : {};
  const shards = new Map<string, { caughtUp: boolean; done: boolean }>();
  let stopped = false;
  let inFlight = 0;
  const startedAt = Date.now();

  const checkpoint = (shardId: string, sequenceNumber: string) => {
    checkpoints[shardId] = sequenceNumber;
    if (config.checkpointFile) writeFileSync(config.checkpointFile, JSON.stringify(checkpoints));
  };

  async function invoke(records: SourceRecord[]): Promise<{ failedFrom?: number; error?: Error; thrown?: boolean }> {
    inFlight += 1;
    try {
      const result = await deps.invoke(config.functionName, { Records: records.map((r) => r.event) }, config.kind);
      if (!config.reportBatchItemFailures) return {};
      const failures = (result as { batchItemFailures?: Array<{ itemIdentifier?: string }> } | null)?.batchItemFailures;
      if (!Array.isArray(failures) || failures.length === 0) return {};
      const indexes = failures.map((f) => records.findIndex((r) => r.sequenceNumber === f.itemIdentifier));
      // An identifier that names no record of the batch makes Lambda treat the whole batch as failed.
      return { failedFrom: indexes.includes(-1) ? 0 : Math.min(...indexes), error: new Error('partial batch failure') };
    } catch (error) {
      return { failedFrom: 0, error: error as Error, thrown: true };
    } finally {
      inFlight -= 1;
    }
  }

  /** Delivers records until they succeed, are bisected, or exhaust their retries and go to the destination. */
  async function deliver(shardId: string, records: SourceRecord[]): Promise<void> {
    let remaining = records;
    for (let attempt = 1; remaining.length && !stopped; attempt += 1) {
      const { failedFrom, error, thrown } = await invoke(remaining);
      if (failedFrom === undefined) return;
      remaining = remaining.slice(failedFrom);
      // A function error splits the batch to isolate a bad record; a partial response already names it.
      if (config.bisectOnError && thrown && remaining.length > 1) {
        const half = Math.ceil(remaining.length / 2);
        await deliver(shardId, remaining.slice(0, half));
        await deliver(shardId, remaining.slice(half));
        return;
      }
      if (config.maxRetryAttempts >= 0 && attempt > config.maxRetryAttempts) {
        deps.log(`${config.functionName}: ${remaining.length} record(s) of ${shardId} failed ${attempt} time(s): ${error?.message}; sent on`);
        await sendFailure(shardId, remaining, attempt);
        return;
      }
      await sleep(RETRY_MS * attempt);
    }
  }

  async function sendFailure(shardId: string, records: SourceRecord[], attempts: number): Promise<void> {
    if (!config.onFailureQueueUrl) return;
    const info = {
      shardId, startSequenceNumber: records[0]!.sequenceNumber, endSequenceNumber: records.at(-1)!.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(records[0]!.arrival * 1000).toISOString(), approximateArrivalOfLastRecord: new Date(records.at(-1)!.arrival * 1000).toISOString(),
      batchSize: records.length, streamArn: config.streamArn,
    };
    await sendToDestination(deps.sqs, config.onFailureQueueUrl, {
      requestContext: { requestId: randomUUID(), functionArn: arn.function(config.functionName), condition: 'RetryAttemptsExhausted', approximateInvokeCount: attempts },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0', timestamp: new Date().toISOString(),
      [config.kind === 'dynamodb' ? 'DDBStreamBatchInfo' : 'KinesisBatchInfo']: info,
    });
  }

  async function pollShard(shard: Shard, initial: Position): Promise<void> {
    const state = shards.get(shard.shardId)!;
    const saved = checkpoints[shard.shardId];
    let iterator = await deps.source.iterator(shard.shardId, saved ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: saved } : initial);
    let batch: SourceRecord[] = [];
    let lastRead: string | undefined;
    let windowStart = 0;
    while (!stopped && iterator) {
      const page = await deps.source.read(iterator);
      iterator = page.next;
      for (const record of page.records) {
        lastRead = record.sequenceNumber;
        if (matches(filterView(record))) batch.push(record);
      }
      if (batch.length && !windowStart) windowStart = Date.now();
      const windowOver = Date.now() - windowStart >= config.batchWindowSeconds * 1000 || !iterator;
      while (batch.length >= config.batchSize || (batch.length && windowOver)) {
        const next = batch.slice(0, config.batchSize);
        batch = batch.slice(config.batchSize);
        await deliver(shard.shardId, next);
        if (!stopped) checkpoint(shard.shardId, batch.length ? next.at(-1)!.sequenceNumber : lastRead!);
        windowStart = batch.length ? Date.now() : 0;
      }
      // Records the filter dropped still move the position on.
      if (!batch.length && lastRead && checkpoints[shard.shardId] !== lastRead) checkpoint(shard.shardId, lastRead);
      state.caughtUp = page.records.length === 0 && batch.length === 0;
      if (page.records.length === 0) await sleep(POLL_MS);
    }
    state.done = true;
    state.caughtUp = true;
  }

  /** Finds new shards (DynamoDB rolls them over; children follow their closed parent) and starts reading them. */
  async function discover(): Promise<void> {
    while (!stopped) {
      try {
        const all = await deps.source.shards();
        for (const shard of all) {
          if (shards.has(shard.shardId)) continue;
          const parent = shard.parentShardId ? shards.get(shard.parentShardId) : undefined;
          const parentKnown = shard.parentShardId !== undefined && all.some((s) => s.shardId === shard.parentShardId);
          if (parentKnown && !parent?.done) continue;
          shards.set(shard.shardId, { caughtUp: false, done: false });
          const discoveredLater = Date.now() - startedAt > 1000 || parent !== undefined;
          const position: Position = { type: discoveredLater ? 'TRIM_HORIZON' : config.startingPosition };
          void pollShard(shard, position).catch((e: unknown) => {
            deps.log(`${config.functionName}: reading ${shard.shardId} failed: ${String(e)}; retrying`);
            shards.delete(shard.shardId);
          });
        }
      } catch (e) {
        if (!stopped) deps.log(`${config.functionName}: listing shards failed: ${String(e)}`);
      }
      await sleep(500);
    }
  }

  const discovering = discover();
  return {
    async stop() { stopped = true; await discovering; },
    caughtUp: () => shards.size > 0 && [...shards.values()].every((s) => s.caughtUp) && inFlight === 0,
    inFlight: () => inFlight > 0,
  };
}
