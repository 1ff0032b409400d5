import { recordedNotices, recordResource } from '../src/cloud/providers/recorded';
import type { Template } from '../src/cloud/cloudformation/template';

describe('what the local cloud records without evaluating', () => {
  it('says in one line per kind what a stack declares that only AWS acts on', () => {
    const template: Template = {
      Resources: {
        AErrorsAlarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmName: 'a-errors' } },
        AThrottlesAlarm: { Type: 'AWS::CloudWatch::Alarm', Properties: {} },
        Key: { Type: 'AWS::KMS::Key', Properties: {} },
        ALogGroup: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/a', RetentionInDays: 30 } },
        BLogGroup: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/b' } },
        Ingest: {
          Type: 'AWS::S3::Bucket',
          Properties: {
            LifecycleConfiguration: {
              Rules: [
                { Id: 'archive', Status: 'Enabled' },
                { Id: 'abort', Status: 'Enabled' },
              ],
            },
          },
        },
        Plain: { Type: 'AWS::S3::Bucket', Properties: {} },
      },
    };
    expect(recordedNotices('s-dev', template)).toEqual([
      's-dev: 2 CloudWatch alarms recorded, not evaluated: no CloudWatch locally',
      's-dev: 1 KMS key recorded, not created: encryption at rest has no local meaning',
      's-dev: log retention (30 days) of 1 log group recorded, not applied: function logs go to the CLI',
      's-dev: Ingest lifecycle rules (archive, abort) recorded, not applied: s3rver keeps every object',
    ]);
    expect(recordedNotices('s-dev', { Resources: { Plain: { Type: 'AWS::S3::Bucket' } } })).toEqual([]);
  });

  it('answers Ref and Fn::GetAtt for an alarm and a key as AWS shapes them', () => {
    expect(recordResource('s-dev', 'AErrorsAlarm', 'AWS::CloudWatch::Alarm', { AlarmName: 'a-errors' })).toEqual({
      ref: 'a-errors',
      attributes: { Arn: expect.stringMatching(/^arn:aws:cloudwatch:[^:]+:\d{12}:alarm:a-errors$/) },
    });
    expect(recordResource('s-dev', 'AlarmKey', 'AWS::KMS::Key', {}).attributes.Arn).toMatch(/^arn:aws:kms:[^:]+:\d{12}:key\/s-dev-AlarmKey$/);
  });
});
