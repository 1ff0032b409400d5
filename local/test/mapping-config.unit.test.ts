import { UnsupportedProperty } from '../src/cloud/cloudformation/property-support';
import { eventInvokeConfig, streamMappingConfig } from '../src/cloud/event-sources/mapping-config';

const QUEUE = 'arn:aws:sqs:eu-central-1:000000000000:failures';
const queues = (arn: string) => (arn === QUEUE ? 'http://127.0.0.1:1/000000000000/failures' : undefined);
/** A mapping as the services' templates declare it (an enhanced fan-out consumer of the change feed). */
const mapping = {
  BatchSize: 10,
  Enabled: true,
  EventSourceArn: 'arn:aws:kinesis:eu-central-1:000000000000:stream/feed/consumer/c:1',
  FunctionName: 'arn:aws:lambda:eu-central-1:000000000000:function:fn',
  StartingPosition: 'TRIM_HORIZON',
  MaximumBatchingWindowInSeconds: 1,
  MaximumRetryAttempts: 3,
  BisectBatchOnFunctionError: true,
  FunctionResponseTypes: ['ReportBatchItemFailures'],
  DestinationConfig: { OnFailure: { Destination: QUEUE } },
  FilterCriteria: { Filters: [{ Pattern: '{}' }] },
};

describe('event source mapping and async invoke settings', () => {
  it("reads the templates' mappings with AWS's defaults", () => {
    expect(streamMappingConfig(mapping, queues)).toEqual({
      batchSize: 10,
      parallelization: 1,
      batchWindowSeconds: 1,
      startingPosition: 'TRIM_HORIZON',
      maxRetryAttempts: 3,
      maxRecordAgeSeconds: -1,
      bisectOnError: true,
      reportBatchItemFailures: true,
      onFailureQueueUrl: 'http://127.0.0.1:1/000000000000/failures',
    });
    expect(streamMappingConfig({ ...mapping, MaximumRecordAgeInSeconds: 60, ParallelizationFactor: 1 }, queues).maxRecordAgeSeconds).toBe(60);
    expect(streamMappingConfig({ ...mapping, ParallelizationFactor: 10 }, queues).parallelization).toBe(10);
    expect(streamMappingConfig({ ...mapping, EventSourceArn: 'arn:aws:dynamodb:eu-central-1:000000000000:table/t/stream/1', ParallelizationFactor: '4' }, queues).parallelization).toBe(4);
  });

  it.each([
    [{ ParallelizationFactor: 11 }, /^ParallelizationFactor 11 is outside AWS's range \(1 to 10\)$/],
    [{ ParallelizationFactor: 0 }, /^ParallelizationFactor 0 is outside AWS's range \(1 to 10\)$/],
    [{ ParallelizationFactor: -1 }, /^ParallelizationFactor -1 is outside AWS's range \(1 to 10\)$/],
    [{ ParallelizationFactor: 2.5 }, /^ParallelizationFactor 2.5 is outside/],
    [{ TumblingWindowInSeconds: 30 }, /^TumblingWindowInSeconds/],
    [{ StartingPosition: 'AT_TIMESTAMP' }, /^StartingPosition AT_TIMESTAMP is not emulated/],
    [{ StartingPositionTimestamp: 1700000000 }, /^StartingPositionTimestamp is not emulated/],
    [{ MaximumRecordAgeInSeconds: 10 }, /^MaximumRecordAgeInSeconds 10 is outside AWS's range/],
    [{ DestinationConfig: { OnSuccess: { Destination: QUEUE } } }, /^DestinationConfig.OnSuccess is not emulated/],
    [{ DestinationConfig: { OnFailure: { Destination: 'arn:aws:sns:eu-central-1:000000000000:t' } } }, /SQS queues only, not sns$/],
    [{ DestinationConfig: { OnFailure: { Destination: `${QUEUE}-elsewhere` } } }, /is not a queue of the deployed stacks$/],
    [{ EventSourceArn: QUEUE }, /^EventSourceArn .* Kinesis and DynamoDB streams only$/],
  ])('refuses a mapping with %j, naming the property', (override, message) => {
    expect(() => streamMappingConfig({ ...mapping, ...override }, queues)).toThrow(UnsupportedProperty);
    expect(() => streamMappingConfig({ ...mapping, ...override }, queues)).toThrow(message);
  });

  it('reads an EventInvokeConfig and refuses what it cannot do', () => {
    const config = { FunctionName: 'fn', Qualifier: '$LATEST', MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 120, DestinationConfig: { OnFailure: { Destination: QUEUE } } };
    expect(eventInvokeConfig(config, queues)).toEqual({ maxRetryAttempts: 1, maxEventAgeSeconds: 120, onFailureQueueUrl: 'http://127.0.0.1:1/000000000000/failures' });
    expect(eventInvokeConfig({ FunctionName: 'fn' }, queues)).toEqual({ maxRetryAttempts: 2, maxEventAgeSeconds: 21600, onFailureQueueUrl: undefined });
    expect(() => eventInvokeConfig({ ...config, DestinationConfig: { OnFailure: { Destination: 'arn:aws:lambda:eu-central-1:000000000000:function:x' } } }, queues)).toThrow(/not lambda$/);
    expect(() => eventInvokeConfig({ ...config, DestinationConfig: { OnSuccess: { Destination: 'arn:aws:events:eu-central-1:000000000000:event-bus/b' } } }, queues)).toThrow(/OnSuccess/);
    expect(() => eventInvokeConfig({ ...config, Qualifier: 'live' }, queues)).toThrow(/^Qualifier live/);
  });
});
