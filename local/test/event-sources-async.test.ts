import { SQSClient } from '@aws-sdk/client-sqs';
import { createAsyncInvoker } from '../src/cloud/event-sources/async-invoke';
import { MAX_ASYNC_PAYLOAD_BYTES, payloadBytes } from '../src/cloud/lambda/payload-limits';
import { startSqs, type Sqs } from '../src/cloud/emulators/sqs';
import { aws, createQueue, receive, waitFor } from './event-sources-helpers';

let sqsServer: Sqs;
let sqs: SQSClient;

beforeAll(async () => {
  sqsServer = await startSqs();
  sqs = new SQSClient({ ...aws, endpoint: sqsServer.endpoint });
});

afterAll(async () => {
  await sqsServer?.stop();
});

class FunctionError extends Error {
  override name = 'FunctionError';
  errorType = 'ValidationError';
}

/** A function that fails its first `failures` invocations, recording when each one started and its request id. */
function flaky(failures: number) {
  const starts: number[] = [];
  const requestIds: string[] = [];
  return {
    starts,
    requestIds,
    invoke: async (_fn: string, _event: unknown, _source: string, requestId: string) => {
      starts.push(Date.now());
      requestIds.push(requestId);
      if (starts.length <= failures) throw new FunctionError(`attempt ${starts.length} failed`);
      return 'done';
    },
  };
}

const event = { Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: 'ingest' }, object: { key: 'incoming/EXT_CLIENT/accounts_20240131.csv' } } }] };

describe('asynchronous invocation', () => {
  it("refuses an event over Lambda's 1 MB asynchronous limit at once, never invoking or queueing it", async () => {
    const fn = flaky(0);
    const invoker = createAsyncInvoker({ invoke: fn.invoke, sqs, log: () => undefined });
    const padded = (bytes: number) => ({ pad: 'x'.repeat(bytes - payloadBytes({ pad: '' })) });
    let refused: unknown;
    try {
      invoker.invokeAsync('persist', padded(MAX_ASYNC_PAYLOAD_BYTES + 1), { maxRetryAttempts: 2 });
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ errorType: 'RequestEntityTooLargeException', message: 'Request must be smaller than 1048576 bytes for the InvokeFunction operation' });
    expect(invoker.pending()).toBe(0);
    invoker.invokeAsync('persist', padded(MAX_ASYNC_PAYLOAD_BYTES), { maxRetryAttempts: 2 });
    await waitFor('the invocation', () => invoker.pending() === 0);
    expect(fn.starts).toHaveLength(1);
  });

  it('retries a failing invocation after 1 s and 2 s, counting it as pending until it settles', async () => {
    const fn = flaky(2);
    const queueUrl = await createQueue(sqs, 'async-ok');
    const invoker = createAsyncInvoker({ invoke: fn.invoke, sqs, log: () => undefined });
    invoker.invokeAsync('persist', event, { maxRetryAttempts: 2, onFailureQueueUrl: queueUrl });
    expect(invoker.pending()).toBe(1);
    await waitFor('the retries', () => invoker.pending() === 0, 10_000);

    const [first, second, third] = fn.starts;
    expect(fn.starts).toHaveLength(3);
    expect(second! - first!).toBeGreaterThanOrEqual(950);
    expect(third! - second!).toBeGreaterThanOrEqual(1950);
    expect(await receive(sqs, queueUrl, 0)).toBeUndefined();
  });

  it("sends AWS's destination record once retries are exhausted, with the request id every attempt had", async () => {
    const fn = flaky(Infinity);
    const queueUrl = await createQueue(sqs, 'async-failures');
    const gaveUp: unknown[] = [];
    const invoker = createAsyncInvoker({ invoke: fn.invoke, sqs, log: () => undefined, gaveUp: (e) => gaveUp.push(e) });
    invoker.invokeAsync('persist', event, { maxRetryAttempts: 1, onFailureQueueUrl: queueUrl });
    await waitFor('the retries', () => invoker.pending() === 0, 10_000);

    expect(fn.starts).toHaveLength(2);
    const [requestId, retried] = fn.requestIds;
    expect(retried).toBe(requestId);
    expect(await receive(sqs, queueUrl)).toEqual({
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      requestContext: { requestId, functionArn: expect.stringMatching(/^arn:aws:lambda:.*:function:persist:\$LATEST$/), condition: 'RetriesExhausted', approximateInvokeCount: 2 },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'ValidationError', errorMessage: 'attempt 2 failed' },
    });
    expect(gaveUp).toEqual([{ functionName: 'persist', reason: 'attempt 2 failed' }]);
  });

  it('invokes once with no retries configured and runs invocations independently', async () => {
    const failing = flaky(Infinity);
    const invoker = createAsyncInvoker({ invoke: failing.invoke, sqs, log: () => undefined });
    invoker.invokeAsync('a', event, { maxRetryAttempts: 0 });
    invoker.invokeAsync('b', event, { maxRetryAttempts: 0 });
    expect(invoker.pending()).toBe(2);
    await waitFor('both invocations', () => invoker.pending() === 0);
    expect(failing.starts).toHaveLength(2);
  });

  it('retries throttled invocations without counting them, until the event is older than its maximum age', async () => {
    const throttled: number[] = [];
    const invoke = async () => {
      throttled.push(Date.now());
      throw Object.assign(new Error('Rate Exceeded'), { errorType: 'TooManyRequestsException' });
    };
    const queueUrl = await createQueue(sqs, 'async-throttled');
    const invoker = createAsyncInvoker({ invoke, sqs, log: () => undefined });
    invoker.invokeAsync('persist', event, { maxRetryAttempts: 0, maxEventAgeSeconds: 2, onFailureQueueUrl: queueUrl });
    await waitFor('the event to expire', () => invoker.pending() === 0, 10_000);

    expect(throttled.length).toBeGreaterThan(1);
    expect(await receive(sqs, queueUrl)).toMatchObject({ requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: throttled.length }, requestPayload: event });
  });
});
