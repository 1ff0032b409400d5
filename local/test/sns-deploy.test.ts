import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSnsResource } from '../src/cloud/providers/sns';
import { type Sqs, startSqs } from '../src/cloud/emulators/sqs';

/** AWS::SNS::Topic and AWS::SNS::Subscription as the local cloud deploys them, on a real fauxqs. */
describe('SNS resources on fauxqs', () => {
  let fauxqs: Sqs;
  let sns: SNSClient;
  let sqs: SQSClient;
  const aws = { region: 'eu-central-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };

  beforeAll(async () => {
    fauxqs = await startSqs();
    sns = new SNSClient({ ...aws, endpoint: fauxqs.endpoint });
    sqs = new SQSClient({ ...aws, endpoint: fauxqs.endpoint });
  });
  afterAll(() => fauxqs?.stop());

  it('creates a topic idempotently and delivers to a subscribed queue, raw and filtered as the subscription says', async () => {
    const topic = await createSnsResource('s: Topic (AWS::SNS::Topic)', 'AWS::SNS::Topic', { TopicName: 'notes', KmsMasterKeyId: 'alias/aws/sns' }, 'g', sns);
    expect(await createSnsResource('s: Topic (AWS::SNS::Topic)', 'AWS::SNS::Topic', { TopicName: 'notes', KmsMasterKeyId: 'alias/aws/sns' }, 'g', sns)).toEqual(topic);
    expect(topic.ref).toMatch(/^arn:aws:sns:[^:]+:\d+:notes$/);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'notes-queue' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await createSnsResource(
      's: Sub (AWS::SNS::Subscription)',
      'AWS::SNS::Subscription',
      { TopicArn: topic.ref, Protocol: 'sqs', Endpoint: Attributes!.QueueArn, RawMessageDelivery: true, FilterPolicy: { status: ['FAILURE'] } },
      'g',
      sns,
    );
    const publish = (status: string) =>
      sns.send(new PublishCommand({ TopicArn: topic.ref, Message: JSON.stringify({ status }), MessageAttributes: { status: { DataType: 'String', StringValue: status } } }));
    await publish('SUCCESS');
    await publish('FAILURE');
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(Messages.map((m) => m.Body)).toEqual(['{"status":"FAILURE"}']);
  });
});
