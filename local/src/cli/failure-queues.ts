import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ListQueuesCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ErasureFailure, NotErased } from '@dataharvest/events/erasure';
import type { FailureRecord } from '@dataharvest/events/failure';
import { parseObjectKey } from '@dataharvest/events/object-key';
import { createErasures } from '@dataharvest/shared/erasures';
import { type Connection, metastoreTable } from './connection';

/** One message of an on-failure queue, mapped back to the batch it is about where the metastore says. */
export interface QueuedFailure {
  /** The SQS message id: what `redrive --id` takes. */
  id: string;
  queueUrl: string;
  receiptHandle: string;
  /** The service whose function gave up (the queue is `dataharvest-<service>-failures-<stage>`). */
  service: string;
  /** RetryAttemptsExhausted, RecordAgeExceeded, … as Lambda names the condition. */
  condition: string;
  client?: string;
  batchDate?: string;
  generation?: number;
  reason: string;
  attempts: number;
  firstSeen: string;
  lastSeen: string;
  /** Where a change-feed record sits, when the message is about one. */
  shardId?: string;
  sequenceNumbers?: [string, string];
  /** The object an S3-triggered invocation was about (its key decoded), in which bucket, and which upload of it. */
  objectKey?: string;
  bucket?: string;
  eTag?: string;
  /** The metastore's failure item it maps to (stream failures recorded by the handler). */
  failure?: FailureRecord;
  /** The erasure request a privacy failure is about (its sk), and the objects its attempts could not erase. */
  erasure?: { request: string; notErased: NotErased[] };
}

/** An SQS client that reaches the connection's queues: the local cloud's fauxqs, or the stage's region. */
export function sqsClient(on: Connection): SQSClient {
  const { config } = on.aws.dynamo;
  return new SQSClient({ region: config.region, credentials: config.credentials, endpoint: on.sqsEndpoint });
}

/** Every service's FailureQueue of the stage, found by the name each serverless.yml gives it. */
export async function failureQueues(sqs: SQSClient, stage: string): Promise<Array<{ service: string; url: string }>> {
  const pattern = new RegExp(`^dataharvest-(.+)-failures-${stage.replace(/[^A-Za-z0-9-]/g, '')}$`);
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const out = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'dataharvest-', NextToken: token }));
    urls.push(...(out.QueueUrls ?? []));
    token = out.NextToken;
  } while (token);
  return urls.flatMap((url) => {
    const match = pattern.exec(url.split('/').at(-1) ?? '');
    return match ? [{ service: match[1]!, url }] : [];
  });
}

/**
 * Every message of a queue, each hidden for `hideSeconds` until released or deleted (SQS has no peek). A receive
 * that brings nothing new ends the read.
 */
async function receiveAll(sqs: SQSClient, url: string, hideSeconds: number): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: hideSeconds, WaitTimeSeconds: 0 }));
    const fresh = (out.Messages ?? []).filter((m) => !seen.has(m.MessageId!));
    if (!fresh.length) return [...seen.values()];
    for (const m of fresh) seen.set(m.MessageId!, m);
  }
}

/** Makes messages visible again at once, for the next reader. */
export async function release(sqs: SQSClient, messages: QueuedFailure[]): Promise<void> {
  for (const m of messages) await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: m.queueUrl, ReceiptHandle: m.receiptHandle, VisibilityTimeout: 0 }));
}

export async function remove(sqs: SQSClient, message: QueuedFailure): Promise<void> {
  await sqs.send(new DeleteMessageCommand({ QueueUrl: message.queueUrl, ReceiptHandle: message.receiptHandle }));
}

/**
 * What sits in every on-failure queue of the connection's stage, each message mapped to its batch where possible, by
 * the failure items `failureItems` reads (from the table, or its index for a view polled again a moment later).
 */
export async function readFailures(on: Connection, sqs: SQSClient, hideSeconds = 30, failureItems = () => on.metastore.listFailures()): Promise<QueuedFailure[]> {
  const messages: Array<{ message: Message; queue: { service: string; url: string } }> = [];
  for (const queue of await failureQueues(sqs, on.deployment.stage)) {
    for (const message of await receiveAll(sqs, queue.url, hideSeconds)) messages.push({ message, queue });
  }
  // The queues first: a handler records its failure before the platform queues the record, so every message read
  // has its failure item by now.
  const failures = await failureItems();
  const erasures = messages.some((m) => m.queue.service === PRIVACY) ? await createErasures(on.aws.dynamo, metastoreTable(on.deployment)).listFailures() : [];
  return messages.map(({ message, queue }) => describe(message, queue, failures, erasures)).sort((a, b) => a.firstSeen.localeCompare(b.firstSeen));
}

interface DestinationRecord {
  timestamp?: string;
  requestContext?: { condition?: string; approximateInvokeCount?: number };
  responsePayload?: { errorType?: string; errorMessage?: string };
  requestPayload?: { Records?: Array<{ s3?: { bucket?: { name?: string }; object?: { key?: string; eTag?: string } } }> };
  KinesisBatchInfo?: BatchInfo;
  DDBStreamBatchInfo?: BatchInfo;
}
interface BatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
}

const within = (n: string, from: string, to: string) => BigInt(from) <= BigInt(n) && BigInt(n) <= BigInt(to);

/** The service that carries out erasure requests: its failures are about a request, not a batch. */
const PRIVACY = 'privacy';

/**
 * Maps one on-failure message (Lambda's record: where the records are, or the event) to what it is about: a batch's
 * failure item, or for the privacy service an erasure request's.
 */
export function describe(message: Message, queue: { service: string; url: string }, failures: FailureRecord[], erasures: ErasureFailure[] = []): QueuedFailure {
  const body = JSON.parse(message.Body ?? '{}') as DestinationRecord;
  const at = body.timestamp ?? new Date(0).toISOString();
  const base = {
    id: message.MessageId!,
    queueUrl: queue.url,
    receiptHandle: message.ReceiptHandle!,
    service: queue.service,
    condition: body.requestContext?.condition ?? 'unknown',
    attempts: body.requestContext?.approximateInvokeCount ?? 0,
    firstSeen: at,
    lastSeen: at,
  };
  const info = body.KinesisBatchInfo ?? body.DDBStreamBatchInfo;
  if (info) {
    const failure = failures.find(
      (f) => f.function === queue.service && f.shard_id === info.shardId && (f.sequence_numbers ?? []).some((n) => within(n, info.startSequenceNumber, info.endSequenceNumber)),
    );
    const where = { shardId: info.shardId, sequenceNumbers: [info.startSequenceNumber, info.endSequenceNumber] as [string, string] };
    const erasure =
      queue.service === PRIVACY ? erasures.find((e) => e.shard_id === info.shardId && e.sequence_numbers.some((n) => within(n, info.startSequenceNumber, info.endSequenceNumber))) : undefined;
    if (erasure) {
      const { reason, attempts, first_seen: firstSeen, last_seen: lastSeen } = erasure;
      return { ...base, ...where, erasure: { request: erasure.sk, notErased: erasure.not_erased }, reason, attempts, firstSeen, lastSeen };
    }
    if (!failure) return { ...base, ...where, reason: `not recorded in the metastore (${base.condition})` };
    return {
      ...base,
      ...where,
      failure,
      client: failure.client,
      batchDate: failure.batch_date,
      generation: failure.generation,
      reason: failure.reason,
      attempts: failure.attempts,
      firstSeen: failure.first_seen,
      lastSeen: failure.last_seen,
    };
  }
  const s3 = body.requestPayload?.Records?.[0]?.s3;
  // S3 events carry the key URL-encoded, with '+' for a space.
  const objectKey = s3?.object?.key ? decodeURIComponent(s3.object.key.replaceAll('+', ' ')) : undefined;
  const parsed = objectKey ? parseObjectKey(objectKey) : undefined;
  const error = body.responsePayload;
  return {
    ...base,
    ...(objectKey ? { objectKey, bucket: s3?.bucket?.name, eTag: s3?.object?.eTag } : {}),
    ...(parsed?.ok ? { client: parsed.client, batchDate: parsed.batchDate } : {}),
    reason: error ? `${error.errorType ?? 'Error'}: ${error.errorMessage ?? ''}` : base.condition,
  };
}
