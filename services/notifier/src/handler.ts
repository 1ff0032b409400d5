import { SNSClient } from '@aws-sdk/client-sns';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { z } from 'zod';
import { readConfig } from '@dataharvest/shared/config';
import { handleInOrder } from '@dataharvest/shared/batch-response';
import { builtOnFirstEvent, lambda } from '@dataharvest/shared/handler';
import { logger } from '@dataharvest/shared/logger';
import { safeError } from '@dataharvest/shared/safe-error';
import { type ItemChange, notificationsOf } from './notifications';
import { publishNotification } from './publish';

export interface NotifierDeps {
  sns: SNSClient;
  topicArn: string;
}

const itemChange = (record: KinesisStreamRecord) => JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as ItemChange;

/**
 * Publishes what each metastore change settled: a file loaded or rejected, a refused key, a batch's outcome. It
 * compares the change's two images and reads nothing else, so a replayed record publishes the same notifications
 * with the same ids. The first record that fails is reported with every record after it, so a shard's notifications
 * go out in order; a retried record may publish again (at least once), which the ids make harmless.
 */
export const createHandler = ({ sns, topicArn }: NotifierDeps) =>
  lambda(
    async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> =>
      handleInOrder(event.Records, async (record) => {
        try {
          for (const notification of notificationsOf(itemChange(record))) {
            await publishNotification(sns, topicArn, notification);
            // The id and outcome only: client and file names stay out of the logs.
            logger.info('notification published', { notification_id: notification.notification_id, kind: notification.kind, status: notification.status });
          }
        } catch (error) {
          logger.error('record failed', { error: safeError(error) });
          throw error;
        }
      }),
  );

export const handler = builtOnFirstEvent(() => {
  const config = readConfig({ NOTIFICATIONS_TOPIC_ARN: z.string().startsWith('arn:') }, process.env);
  return createHandler({ sns: new SNSClient({}), topicArn: config.NOTIFICATIONS_TOPIC_ARN });
});
