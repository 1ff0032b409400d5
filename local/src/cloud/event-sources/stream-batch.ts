import type { SQSClient } from '@aws-sdk/client-sqs';
import { MAX_PAYLOAD_BYTES } from '../lambda/payload-limits';
import { arn } from '../account';
import { throttled } from '../lambda/throttling';
import { sendToDestination, streamFailureRecord, type GaveUp } from './failure-destination';
import type { SourceRecord } from './stream-sources';

export interface DeliveryConfig {
  functionName: string;
  kind: 'dynamodb' | 'kinesis';
  streamArn: string;
  maxRetryAttempts: number;
  /** MaximumRecordAgeInSeconds, -1 (the default) for no limit: older records are given up, not invoked. */
  maxRecordAgeSeconds?: number;
  bisectOnError: boolean;
  reportBatchItemFailures: boolean;
  onFailureQueueUrl?: string;
}

export interface DeliveryDeps {
  sqs: SQSClient;
  invoke: (fn: string, event: unknown, source: string) => Promise<unknown>;
  log: (l: string) => void;
  /** Waits between retries; resolves early once the poller stops. */
  pause: (ms: number) => Promise<void>;
  stopped: () => boolean;
  running: (delta: 1 | -1) => void;
  gaveUp?: (e: GaveUp) => void;
}

type Attempt = { ok: true } | { ok: false; failedFrom: number; functionError: boolean; throttled?: boolean; reason: string };

/** How many of the records, from the first, fit one invocation's payload (`{"Records":[…]}`); at least one. */
export function fitting(records: SourceRecord[], limit = MAX_PAYLOAD_BYTES): number {
  let size = Buffer.byteLength('{"Records":[]}');
  for (let i = 0; i < records.length; i += 1) {
    size += Buffer.byteLength(JSON.stringify(records[i]!.event)) + (i ? 1 : 0);
    if (size > limit) return Math.max(i, 1);
  }
  return records.length;
}

/** Lambda backs off exponentially between retries of a stream batch; locally from 100 ms up to 2 s. */
const backoff = (retry: number) => Math.min(2000, 100 * 2 ** (retry - 1));
/**
 * A throttled batch waits for a free invocation, not for a fault to clear: from 50 ms up to 400 ms, so that lanes
 * beyond the reserved concurrency take over a container soon after one frees up.
 */
export const throttleBackoff = (attempt: number) => Math.min(400, 50 * 2 ** (attempt - 1));

/**
 * Delivers one batch of a shard the way a Lambda event source mapping does: split to fit the 6 MB payload limit,
 * retried on failure up to maxRetryAttempts (-1: forever), bisected on function errors when configured (halves do not
 * use up retries), retried from the first failed record on a partial batch response, retried without counting when
 * throttled, and reported to the on-failure destination once retries run out or records grow older than
 * maxRecordAgeSeconds. Resolves true once the batch is settled (succeeded or sent on), false if the poller stopped first.
 */
export function createBatchDelivery(config: DeliveryConfig, deps: DeliveryDeps) {
  async function attempt(records: SourceRecord[]): Promise<Attempt> {
    deps.running(1);
    try {
      const response = await deps.invoke(config.functionName, { Records: records.map((r) => r.event) }, config.kind);
      if (!config.reportBatchItemFailures) return { ok: true };
      const failedFrom = firstFailure(response, records);
      return failedFrom === undefined ? { ok: true } : { ok: false, failedFrom, functionError: false, reason: 'partial batch failure' };
    } catch (error) {
      if (throttled(error)) return { ok: false, failedFrom: 0, functionError: false, throttled: true, reason: (error as Error).message };
      return { ok: false, failedFrom: 0, functionError: true, reason: (error as Error).message };
    } finally {
      deps.running(-1);
    }
  }

  /** Records older than maxRecordAgeSeconds, from the first (a shard's records arrive in order). */
  const expired = (records: SourceRecord[]) => {
    const maxAge = config.maxRecordAgeSeconds ?? -1;
    if (maxAge < 0) return 0;
    const index = records.findIndex((r) => Date.now() - r.arrival.getTime() <= maxAge * 1000);
    return index < 0 ? records.length : index;
  };

  async function deliver(shardId: string, batch: SourceRecord[]): Promise<boolean> {
    const fit = fitting(batch);
    if (fit < batch.length) return (await deliver(shardId, batch.slice(0, fit))) && deliver(shardId, batch.slice(fit));
    let records = batch;
    let last: Attempt | undefined;
    for (let invokes = 0, retries = 0; ; ) {
      if (deps.stopped()) return false;
      const old = expired(records);
      if (old) {
        const reason = `older than MaximumRecordAgeInSeconds ${config.maxRecordAgeSeconds}`;
        deps.log(`${config.functionName}: ${old} record(s) of ${shardId} are ${reason}; skipping them`);
        deps.gaveUp?.({ functionName: config.functionName, reason });
        await sendOnFailure(shardId, records.slice(0, old), invokes, last?.ok === false && last.functionError, 'RecordAgeExceeded');
        records = records.slice(old);
        if (!records.length) return true;
      }
      invokes += 1;
      const result = await attempt(records);
      last = result;
      if (result.ok) return true;
      // Failed because the poller stopped: neither a retry nor a give-up; the records are read again on restart.
      if (deps.stopped()) return false;
      if (result.throttled) {
        await deps.pause(throttleBackoff(invokes));
        continue;
      }
      // Records before the first reported failure are checkpointed; as in Lambda, this counts as a retry of the rest.
      records = records.slice(result.failedFrom);
      if (result.functionError && config.bisectOnError && records.length > 1) {
        const half = Math.ceil(records.length / 2);
        return (await deliver(shardId, records.slice(0, half))) && deliver(shardId, records.slice(half));
      }
      if (config.maxRetryAttempts >= 0 && retries >= config.maxRetryAttempts) {
        deps.log(`${config.functionName}: ${records.length} record(s) of ${shardId} failed ${invokes} time(s) (${result.reason}); skipping them`);
        deps.gaveUp?.({ functionName: config.functionName, reason: result.reason });
        await sendOnFailure(shardId, records, invokes, result.functionError, 'RetryAttemptsExhausted');
        return true;
      }
      retries += 1;
      await deps.pause(backoff(retries));
    }
  }

  /** AWS's record for a stream batch: where the records are, not the records themselves. */
  async function sendOnFailure(shardId: string, records: SourceRecord[], invokes: number, functionError: boolean, condition: string): Promise<void> {
    if (!config.onFailureQueueUrl) return;
    const record = streamFailureRecord({
      kind: config.kind,
      functionArn: arn.function(config.functionName),
      streamArn: config.streamArn,
      shardId,
      records,
      invokes,
      functionError,
      condition,
    });
    await sendToDestination(deps.sqs, config.onFailureQueueUrl, record).catch((e: unknown) => deps.log(`${config.functionName}: could not send to the on-failure destination: ${String(e)}`));
  }

  return deliver;
}

/**
 * The index of the first failed record of a partial batch response, undefined when everything succeeded. As in
 * Lambda, a null or empty list means success, and an identifier that names no record of the batch fails it all.
 */
export function firstFailure(response: unknown, records: SourceRecord[]): number | undefined {
  const failures = (response as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (failures === undefined || failures === null || (Array.isArray(failures) && failures.length === 0)) return undefined;
  if (!Array.isArray(failures)) return 0;
  const indexes = failures.map((f) => records.findIndex((r) => r.sequenceNumber === (f as { itemIdentifier?: unknown } | null)?.itemIdentifier));
  return indexes.includes(-1) ? 0 : Math.min(...indexes);
}
