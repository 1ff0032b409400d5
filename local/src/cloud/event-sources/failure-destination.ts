import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SourceRecord } from './stream-sources';

/** An event or stream record the platform stopped retrying (it is in the on-failure destination, if any). */
export interface GaveUp {
  functionName: string;
  reason: string;
}

/** Sends an AWS-shaped invocation record to an on-failure SQS destination. */
export async function sendToDestination(sqs: SQSClient, queueUrl: string, record: unknown): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(record) }));
}

/** The record Lambda sends an asynchronous invocation's on-failure destination: the event and the error. */
export function asyncFailureRecord(opts: {
  requestId: string;
  functionArn: string;
  condition: string;
  attempts: number;
  event: unknown;
  error: { errorType?: string; name: string; message: string };
}) {
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: { requestId: opts.requestId, functionArn: `${opts.functionArn}:$LATEST`, condition: opts.condition, approximateInvokeCount: opts.attempts },
    requestPayload: opts.event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: opts.error.errorType ?? opts.error.name, errorMessage: opts.error.message },
  };
}

/** The record Lambda sends a stream mapping's on-failure destination: where the records are, not the records. */
export function streamFailureRecord(opts: {
  kind: 'dynamodb' | 'kinesis';
  functionArn: string;
  streamArn: string;
  shardId: string;
  records: SourceRecord[];
  invokes: number;
  functionError: boolean;
  condition: string;
}) {
  const first = opts.records[0]!;
  const last = opts.records.at(-1)!;
  return {
    requestContext: { requestId: randomUUID(), functionArn: opts.functionArn, condition: opts.condition, approximateInvokeCount: opts.invokes },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(opts.functionError ? { functionError: 'Unhandled' } : {}) },
    version: '1.0',
    timestamp: new Date().toISOString(),
    [opts.kind === 'dynamodb' ? 'DDBStreamBatchInfo' : 'KinesisBatchInfo']: {
      shardId: opts.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: first.arrival.toISOString(),
      approximateArrivalOfLastRecord: last.arrival.toISOString(),
      batchSize: opts.records.length,
      streamArn: opts.streamArn,
    },
  };
}
