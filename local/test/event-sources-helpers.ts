import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { StreamPoller } from '../src/cloud/event-sources/stream-poller';

export const aws = { region: 'eu-central-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/** Polls until the probe returns something truthy. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the poller has read everything and no invocation runs. */
export const settled = (poller: StreamPoller, timeoutMs?: number) => waitFor('the poller to catch up', () => poller.caughtUp(), timeoutMs);

type Handler<R> = (records: R[], call: number) => unknown;

/**
 * The function under test's stand-in: records every batch it is invoked with (and how many invocations overlap),
 * answering with what `handler` returns or throws.
 */
export function fakeFunction<R>(handler: Handler<R> = () => null) {
  const batches: R[][] = [];
  let running = 0;
  let maxConcurrent = 0;
  return {
    batches,
    maxConcurrent: () => maxConcurrent,
    invoke: async (_fn: string, event: unknown) => {
      running += 1;
      maxConcurrent = Math.max(maxConcurrent, running);
      try {
        const records = (event as { Records: R[] }).Records;
        batches.push(records);
        await new Promise((r) => setTimeout(r, 5));
        return handler(records, batches.length);
      } finally {
        running -= 1;
      }
    },
  };
}

export async function createQueue(sqs: SQSClient, name: string): Promise<string> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
}

/** The next message of a queue, parsed, or undefined once none arrives within the wait. */
export async function receive(sqs: SQSClient, queueUrl: string, waitSeconds = 5): Promise<Record<string, unknown> | undefined> {
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: waitSeconds }));
  const message = Messages[0];
  if (!message) return undefined;
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  return JSON.parse(message.Body!) as Record<string, unknown>;
}
