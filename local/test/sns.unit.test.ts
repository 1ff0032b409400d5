import { UnsupportedProperty } from '../src/cloud/cloudformation/property-support';
import { CloudError } from '../src/cloud/errors';
import { checkProtocol, createSnsResource } from '../src/cloud/providers/sns';

describe('SNS subscriptions in the local cloud', () => {
  it.each(['email', 'email-json', 'https', 'lambda', 'sms', undefined])('refuses protocol %p at deploy, naming the resource', (protocol) => {
    expect(() => checkProtocol('dataharvest-x: Alerts (AWS::SNS::Subscription)', protocol)).toThrow(CloudError);
    expect(() => checkProtocol('dataharvest-x: Alerts (AWS::SNS::Subscription)', protocol)).toThrow(/^dataharvest-x: Alerts \(AWS::SNS::Subscription\): Protocol .*SQS queues only/);
  });

  it('accepts SQS', () => {
    expect(() => checkProtocol('x', 'sqs')).not.toThrow();
  });

  it('refuses a property it does not emulate (the deploy names the resource), and an inline e-mail subscription, before calling SNS', async () => {
    const sns = { send: () => Promise.reject(new Error('SNS was called')) } as never;
    await expect(createSnsResource('s: T (AWS::SNS::Topic)', 'AWS::SNS::Topic', { TopicName: 't', ArchivePolicy: {} }, 'g', sns)).rejects.toThrow(
      new UnsupportedProperty('ArchivePolicy is not emulated by the local cloud'),
    );
    await expect(createSnsResource('s: T (AWS::SNS::Topic)', 'AWS::SNS::Topic', { Subscription: [{ Protocol: 'email', Endpoint: 'ops@example.com' }] }, 'g', sns)).rejects.toThrow(/Protocol "email"/);
    await expect(createSnsResource('s: S (AWS::SNS::Subscription)', 'AWS::SNS::Subscription', { TopicArn: 'a', Protocol: 'sqs', Endpoint: 'q', DeliveryPolicy: {} }, 'g', sns)).rejects.toThrow(
      new UnsupportedProperty('DeliveryPolicy is not emulated by the local cloud'),
    );
  });
});
