import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { MAX_ASYNC_PAYLOAD_BYTES, requestTooLarge } from '../lambda/payload-limits';
import { FunctionError } from '../lambda/runtime';
import { arn } from '../account';
import { throttled } from '../lambda/throttling';
import { asyncFailureRecord, sendToDestination, type GaveUp } from './failure-destination';

export interface AsyncConfig {
  maxRetryAttempts: number;
  /** MaximumEventAgeInSeconds (AWS default 6 hours): an older event is not retried again but given up. */
  maxEventAgeSeconds?: number;
  onFailureQueueUrl?: string;
}

export interface AsyncInvoker {
  /** Queues the event; an event over Lambda's asynchronous payload limit is refused at once (RequestEntityTooLargeException), never queued. */
  invokeAsync(fn: string, event: unknown, config: AsyncConfig): void;
  pending(): number;
}

/**
 * Lambda waits about one minute before the first retry and two before the second; locally the same schedule is
 * kept in seconds (1 s, then 2 s) so failures surface quickly.
 */
const RETRY_DELAYS_MS = [1000, 2000];

/**
 * Asynchronous invocation, as S3 notifications use it: the event is queued and invoked; a function error is
 * retried up to maxRetryAttempts (AWS default 2), a throttled invocation without counting, both only while the event
 * is younger than maxEventAgeSeconds; then the on-failure destination receives AWS's invocation record and the event
 * is dropped.
 */
export function createAsyncInvoker(deps: {
  invoke: (fn: string, event: unknown, source: string, requestId: string) => Promise<unknown>;
  sqs: SQSClient;
  log: (l: string) => void;
  gaveUp?: (e: GaveUp) => void;
}): AsyncInvoker {
  let pending = 0;

  async function run(fn: string, event: unknown, config: AsyncConfig): Promise<void> {
    const queued = Date.now();
    // Lambda gives the event its request id when it queues it: every attempt and the destination record carry it.
    const requestId = randomUUID();
    const maxAgeMs = (config.maxEventAgeSeconds ?? 21600) * 1000;
    for (let attempt = 1, retries = 0; ; attempt += 1) {
      try {
        await deps.invoke(fn, event, 'async', requestId);
        return;
      } catch (error) {
        const failure = error as Error & { errorType?: string };
        if (!throttled(error)) retries += 1;
        if (retries > config.maxRetryAttempts) return exhausted(fn, event, config, { requestId, attempts: attempt }, failure, 'RetriesExhausted');
        await delay(RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length) - 1]!);
        if (Date.now() - queued >= maxAgeMs) return exhausted(fn, event, config, { requestId, attempts: attempt }, failure, 'EventAgeExceeded');
      }
    }
  }

  async function exhausted(
    fn: string,
    event: unknown,
    config: AsyncConfig,
    { requestId, attempts }: { requestId: string; attempts: number },
    error: Error & { errorType?: string },
    condition: string,
  ): Promise<void> {
    deps.log(`${fn}: asynchronous invocation failed ${attempts} time(s) (${error.message}); dropping the event (${condition})`);
    deps.gaveUp?.({ functionName: fn, reason: error.message });
    if (!config.onFailureQueueUrl) return;
    await sendToDestination(deps.sqs, config.onFailureQueueUrl, asyncFailureRecord({ requestId, functionArn: arn.function(fn), condition, attempts, event, error }));
  }

  return {
    invokeAsync(fn, event, config) {
      const tooLarge = requestTooLarge(event, MAX_ASYNC_PAYLOAD_BYTES);
      if (tooLarge) throw new FunctionError(fn, 'RequestEntityTooLargeException', tooLarge);
      pending += 1;
      void run(fn, event, config)
        .catch((e: unknown) => deps.log(`${fn}: could not send to the on-failure destination: ${String(e)}`))
        .finally(() => {
          pending -= 1;
        });
    },
    pending: () => pending,
  };
}
