import { clockStart } from '../src/cli/clock';
import { UsageError } from '../src/cli/errors';
import { ClockTimeError } from '../src/cloud/clock';
import { CloudError, LocalCloudError } from '../src/cloud/errors';
import { bucketPolicyStatements } from '../src/cloud/iam/bucket-policy';
import { UnsupportedCondition } from '../src/cloud/iam/conditions';

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
};

describe('the local cloud raises LocalCloudErrors', () => {
  it('keeps the error it was raised from as cause, under its own name', () => {
    const cause = new Error('EADDRINUSE');
    const error = new CloudError('port 4566 for S3 is taken', { cause });
    expect(error).toBeInstanceOf(LocalCloudError);
    expect(error).toMatchObject({ name: 'CloudError', message: 'port 4566 for S3 is taken', cause });
  });

  it('words an evaluator refusal as a deploy failure naming the resource, the refusal its cause', () => {
    const policy = { Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::ingest/*', Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } } }] };
    const error = thrown(() => bucketPolicyStatements('stack: bucket policy P', policy));
    expect(error).toBeInstanceOf(CloudError);
    expect((error as Error).message).toMatch(/^stack: bucket policy P: .*NumericLessThan/);
    expect((error as Error).cause).toBeInstanceOf(UnsupportedCondition);
    expect((error as Error).cause).toBeInstanceOf(LocalCloudError);
    expect((error as Error).cause).toMatchObject({ name: 'UnsupportedCondition' });
  });
});

describe('the CLI raises UsageErrors', () => {
  it('keeps the error it was raised from as cause: --clock without an offset', () => {
    const error = thrown(() => clockStart('2024-03-18T16:59'));
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ name: 'UsageError', message: expect.stringMatching(/^--clock: clock time "2024-03-18T16:59" is not an ISO 8601 instant/) });
    expect((error as Error).cause).toBeInstanceOf(ClockTimeError);
    expect((error as Error).cause).toBeInstanceOf(LocalCloudError);
  });
});
