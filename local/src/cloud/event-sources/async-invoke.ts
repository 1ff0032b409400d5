import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { arn } from '../template';
import { sendToDestination } from './failure-destination';

export interface AsyncConfig { maxRetryAttempts: number; onFailureQueueUrl?: string }

/** Lambda waits about 1 and 2 minutes between async retries; locally the same two retries come after 1 s and 2 s. */
const RETRY_DELAYS_MS = [1000, 2000];

/**
 * Asynchronous invocation as for S3 notifications: queued, retried on error up to maxRetryAttempts, then the
 * on-failure destination receives AWS's invocation record and the event is dropped.
 */
export function createAsyncInvoker(deps: { invoke: (fn: string, event: unknown, source: string) => Promise<unknown>; sqs: SQSClient; log: (l: string) => void }) {
  let pending = 0;

  async function attempt(fn: string, event: unknown, config: AsyncConfig): Promise<void> {
    const requestId = randomUUID();
    for (let attemptNo = 0; ; attemptNo += 1) {
      try {
        await deps.invoke(fn, event, 's3');
        return;
      } catch (error) {
        if (attemptNo < config.maxRetryAttempts) {
          await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[Math.min(attemptNo, RETRY_DELAYS_MS.length - 1)]));
          continue;
        }
        deps.log(`${fn}: async invocation failed ${attemptNo + 1} time(s), giving up: ${(error as Error).message}`);
        if (config.onFailureQueueUrl) {
          await sendToDestination(deps.sqs, config.onFailureQueueUrl, {
            version: '1.0', timestamp: new Date().toISOString(),
            requestContext: { requestId, functionArn: `${arn.function(fn)}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: attemptNo + 1 },
            requestPayload: event,
            responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
            responsePayload: { errorType: (error as { errorType?: string }).errorType ?? 'Error', errorMessage: (error as Error).message },
          });
        }
        return;
      }
    }
  }

  return {
    invokeAsync(fn: string, event: unknown, config: AsyncConfig): void {
      pending += 1;
      void attempt(fn, event, config).catch((e: unknown) => deps.log(`${fn}: ${String(e)}`)).finally(() => { pending -= 1; });
    },
    pending: () => pending,
  };
}
