import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import { type Connection, connectCloud, ingestBucket } from '../../local/src/cli/connection';
import type { Notification } from '@dataharvest/events/notification';
import { notificationLine, notificationsTopic, type Watch, watchNotifications } from '../../local/src/cli/notifications';
import { testAws } from '../support/clients';

const SAMPLE = 'examples/sample-batch';

/**
 * The notifier through the real local cloud: S3 → persistence → metastore → change feed → notifier → SNS (fauxqs,
 * through the function's IAM proxy) → a subscribed SQS queue, as `up --notifications` reads it.
 */
const CLIENT = 'NOTIFY_CO';

describe('notifications on the SNS topic', () => {
  let cloud: LocalCloud;
  let on: Connection;
  let watch: Watch;
  const received: Notification[] = [];
  const upload = (key: string, body: Buffer | string) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: `incoming/${key}`, Body: body }));

  async function arrived(match: (n: Notification) => boolean, timeoutMs = 60_000): Promise<Notification> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = received.find(match);
      if (found) return found;
      if (Date.now() > until) throw new Error(`no such notification; received: ${received.map(notificationLine).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(async () => {
    cloud = await sharedCloud();
    on = connectCloud(cloud);
    const aws = testAws(cloud);
    watch = await watchNotifications({
      sns: new SNSClient({ ...aws, endpoint: cloud.endpoints.sns }),
      sqs: new SQSClient({ ...aws, endpoint: cloud.endpoints.sqs }),
      topicArn: notificationsTopic(cloud)!,
      queueName: 'notifications-test',
      // The topic carries every client's notifications: this module's client's are its own.
      onNotification: (n) => n.client === CLIENT && received.push(n),
    });
  });
  afterAll(async () => {
    await watch?.stop();
  });

  it('announces each loaded file and the batch COMPLETE, once each', async () => {
    for (const f of readdirSync(SAMPLE).sort()) await upload(`${CLIENT}/${f}`, readFileSync(join(SAMPLE, f)));
    const complete = await arrived((n) => n.kind === 'batch' && n.stage === 'COMPLETE');
    expect(complete).toMatchObject({ status: 'SUCCESS', client: CLIENT, batch_date: '20200130', generation: 1, msg: 'batch complete: 2 events published' });
    await cloud.idle();
    const files = received.filter((n) => n.kind === 'file' && n.batch_date === '20200130');
    expect(files.map((n) => [n.status, n.file, n.msg]).sort()).toEqual(
      readdirSync(SAMPLE)
        .sort()
        .map((f) => ['SUCCESS', f, '2 rows loaded']),
    );
    expect(received.filter((n) => n.kind === 'batch' && n.batch_date === '20200130')).toHaveLength(1);
  });

  it('announces a rejected file, its batch REJECTED, and a refused key, without the rows’ values', async () => {
    await upload(`${CLIENT}/transactions_20200131.csv`, 'record_id,accout_number,transaction_reference,amount,keyword\n1,12345678,14e56786,5000\n');
    const file = await arrived((n) => n.kind === 'file' && n.batch_date === '20200131');
    expect(file).toMatchObject({ status: 'FAILURE', client: CLIENT, file: 'transactions_20200131.csv', msg: 'rejected: 1 problem; first at line 2' });
    expect(await arrived((n) => n.kind === 'batch' && n.batch_date === '20200131')).toMatchObject({ status: 'FAILURE', stage: 'REJECTED', msg: 'batch rejected: transactions refused' });
    expect(JSON.stringify(file)).not.toContain('12345678');

    await upload(`${CLIENT}/holdings_20200131.csv`, 'x\n');
    expect(await arrived((n) => n.file === 'holdings_20200131.csv')).toMatchObject({ kind: 'file', status: 'FAILURE', client: CLIENT, msg: expect.stringMatching(/^object key refused: /) });
  });
});
