import { SubscribeCommand, type SNSClient, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Notification } from '@dataharvest/events/notification';
import type { Deployment } from './connection';

/** The notifier's topic, from its stack's export. */
export function notificationsTopic(d: Deployment): string | undefined {
  return d.exports[`dataharvest-${d.stage}-notifications-topic-arn`];
}

/** One line per notification, for `up --notifications`. */
export const notificationLine = (n: Notification) => `notification ${n.status} ${n.kind} ${[n.client, n.batch_date, n.file ?? n.stage].filter(Boolean).join(' ')}: ${n.msg}`;

export interface Watch {
  stop(): Promise<void>;
}

/**
 * Subscribes a queue of its own to the topic (raw delivery: the message is the notification) and hands every
 * notification on, each id once: SNS may deliver one twice. Stopping removes the subscription and the queue.
 */
export async function watchNotifications(opts: { sns: SNSClient; sqs: SQSClient; topicArn: string; queueName: string; onNotification: (n: Notification) => void }): Promise<Watch> {
  const { sns, sqs } = opts;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: opts.queueName }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const { SubscriptionArn } = await sns.send(new SubscribeCommand({ TopicArn: opts.topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn!, Attributes: { RawMessageDelivery: 'true' } }));
  const seen = new Set<string>();
  let running = true;
  let failure: unknown;
  const polling = (async () => {
    while (running) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of Messages) {
        const n = Notification.parse(JSON.parse(m.Body ?? '{}'));
        if (seen.has(n.notification_id)) continue;
        seen.add(n.notification_id);
        opts.onNotification(n);
      }
      if (Messages.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
    }
  })().catch((e: unknown) => {
    // Kept for stop() to report: an unhandled rejection would end `up` without stopping the cloud.
    running = false;
    failure = e;
  });
  return {
    async stop() {
      running = false;
      await polling;
      if (failure) throw failure;
      await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    },
  };
}
