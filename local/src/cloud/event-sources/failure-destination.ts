import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** An event or stream record the platform stopped retrying (it is in the on-failure destination, if any). */
export interface GaveUp {
  functionName: string;
  reason: string;
}

/** Sends an AWS-shaped invocation record to an on-failure SQS destination. */
export async function sendToDestination(sqs: SQSClient, queueUrl: string, record: unknown): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(record) }));
}
