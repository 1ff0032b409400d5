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
            VersioningConfiguration: { Status: 'Enabled' },
            LoggingConfiguration: { DestinationBucketName: 'logs' },
          },
        },
        Board: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: '{}' } },
        Fn: { Type: 'AWS::Lambda::Function', Properties: { TracingConfig: { Mode: 'Active' } } },
        Flow: { Type: 'AWS::EC2::FlowLog', Properties: {} },
        Params: { Type: 'AWS::RDS::DBClusterParameterGroup', Properties: { Parameters: { 'rds.force_ssl': '1', log_error_verbosity: 'terse' } } },
        Plain: { Type: 'AWS::S3::Bucket', Properties: {} },
      },
    };
    expect(recordedNotices('s-dev', template)).toEqual([
      's-dev: 2 CloudWatch alarms recorded, not evaluated: no CloudWatch locally',
      's-dev: 1 CloudWatch dashboard recorded, not drawn: no CloudWatch locally',
      's-dev: X-Ray tracing (Active) of 1 function recorded, not applied: no X-Ray locally',
      's-dev: 1 VPC flow log recorded, not written: functions talk over loopback',
      "s-dev: 1 KMS key checked, not applied: functions' use of them is checked, the emulators keep data unencrypted, rotation has no local effect",
      's-dev: log retention (30 days) of 1 log group recorded, not applied: logs go to the CLI',
      's-dev: Ingest lifecycle rules (archive, abort) recorded, not applied: s3rver keeps every object',
      's-dev: Ingest versioning recorded, not applied: s3rver keeps the current version only',
      's-dev: Ingest server access logging recorded, not applied: s3rver writes no access logs',
    ]);
    expect(recordedNotices('s-dev', { Resources: { Plain: { Type: 'AWS::S3::Bucket' } } })).toEqual([]);
  });

  it('answers Ref and Fn::GetAtt for an alarm and a dashboard as AWS shapes them', () => {
    expect(recordResource('s-dev', 'AErrorsAlarm', 'AWS::CloudWatch::Alarm', { AlarmName: 'a-errors' })).toEqual({
      ref: 'a-errors',
      attributes: { Arn: expect.stringMatching(/^arn:aws:cloudwatch:[^:]+:\d{12}:alarm:a-errors$/) },
    });
    expect(recordResource('s-dev', 'Board', 'AWS::CloudWatch::Dashboard', { DashboardName: 'd', DashboardBody: '{"widgets":[]}' }).ref).toBe('d');
    expect(() => recordResource('s-dev', 'Board', 'AWS::CloudWatch::Dashboard', { DashboardBody: '{"widgets":' })).toThrow(/DashboardBody that is not JSON/);
  });
});
