import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Sends an AWS-shaped invocation record to an on-failure SQS destination. */
export async function sendToDestination(sqs: SQSClient, queueUrl: string, record: unknown): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(record) }));
}
