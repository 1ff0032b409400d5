import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification } from '@dataharvest/events/notification';

/**
 * One notification to the topic, its JSON as the message. The attributes let a subscription filter (by status or
 * kind) and carry the id subscribers deduplicate on; the id is not the body's only copy, so raw delivery keeps it.
 */
export async function publishNotification(sns: SNSClient, topicArn: string, notification: Notification): Promise<void> {
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: `DataHarvest ${notification.status}: ${notification.kind}`,
      Message: JSON.stringify(notification),
      MessageAttributes: { notification_id: text(notification.notification_id), status: text(notification.status), kind: text(notification.kind) },
    }),
  );
}
