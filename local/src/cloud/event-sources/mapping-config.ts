import { type PropertySupport, refuseUnlisted, UnsupportedProperty } from '../cloudformation/property-support';
import type { AsyncConfig } from './async-invoke';
import type { StreamPollerConfig } from './stream-poller';

type Props = Record<string, unknown>;

/** What a stream mapping reads and how; everything else of AWS::Lambda::EventSourceMapping is refused. */
export const MAPPING_PROPERTIES: PropertySupport = {
  honoured: [
    'EventSourceArn',
    'FunctionName',
    'Enabled',
    'BatchSize',
    'MaximumBatchingWindowInSeconds',
    'StartingPosition',
    'MaximumRetryAttempts',
    'MaximumRecordAgeInSeconds',
    'BisectBatchOnFunctionError',
    'FunctionResponseTypes',
    'FilterCriteria',
    'DestinationConfig',
    'ParallelizationFactor',
    'TumblingWindowInSeconds',
  ],
  withoutEffect: ['Tags'],
};
export const EVENT_INVOKE_PROPERTIES: PropertySupport = {
  honoured: ['FunctionName', 'Qualifier', 'MaximumRetryAttempts', 'MaximumEventAgeInSeconds', 'DestinationConfig'],
  withoutEffect: [],
};

/** A number property within AWS's range (or its "no limit" -1 where AWS has one), else a deploy error naming it. */
function ranged(props: Props, name: string, fallback: number, min: number, max: number, unlimited = true): number {
  const value = Number(props[name] ?? fallback);
  if (!(unlimited && value === -1) && !(Number.isInteger(value) && value >= min && value <= max))
    throw new UnsupportedProperty(`${name} ${String(props[name])} is outside AWS's range (${unlimited ? '-1 or ' : ''}${min} to ${max})`);
  return value;
}

/**
 * The on-failure destination's queue URL. Only SQS queues of the deployed stacks can receive records locally;
 * OnSuccess and SNS, Lambda, EventBridge or S3 destinations are refused.
 */
export function onFailureQueue(props: Props, queueUrl: (queueArn: string) => string | undefined): string | undefined {
  const config = props.DestinationConfig as { OnSuccess?: { Destination?: string }; OnFailure?: { Destination?: string } } | undefined;
  if (config?.OnSuccess) throw new UnsupportedProperty('DestinationConfig.OnSuccess is not emulated by the local cloud (only OnFailure SQS queues are)');
  const destination = config?.OnFailure?.Destination;
  if (destination === undefined) return undefined;
  const service = String(destination).split(':')[2];
  if (service !== 'sqs') throw new UnsupportedProperty(`DestinationConfig.OnFailure ${destination}: the local cloud delivers to SQS queues only, not ${service}`);
  const url = queueUrl(String(destination));
  if (!url) throw new UnsupportedProperty(`DestinationConfig.OnFailure ${destination} is not a queue of the deployed stacks`);
  return url;
}

/** An AWS::Lambda::EventInvokeConfig: retries, how long an event may wait, where it goes once given up. */
export function eventInvokeConfig(props: Props, queueUrl: (queueArn: string) => string | undefined): AsyncConfig {
  refuseUnlisted(props, EVENT_INVOKE_PROPERTIES);
  if (props.Qualifier !== undefined && props.Qualifier !== '$LATEST') throw new UnsupportedProperty(`Qualifier ${String(props.Qualifier)}: the local cloud invokes $LATEST only`);
  return {
    maxRetryAttempts: ranged(props, 'MaximumRetryAttempts', 2, 0, 2),
    maxEventAgeSeconds: ranged(props, 'MaximumEventAgeInSeconds', 21600, 60, 21600),
    onFailureQueueUrl: onFailureQueue(props, queueUrl),
  };
}

/** A stream mapping's poller settings (Kinesis or DynamoDB Streams), AWS's defaults where the template says nothing. */
export function streamMappingConfig(
  props: Props,
  queueUrl: (queueArn: string) => string | undefined,
): Omit<StreamPollerConfig, 'functionName' | 'streamArn' | 'kind' | 'checkpointFile' | 'filterPatterns'> {
  refuseUnlisted(props, MAPPING_PROPERTIES);
  const source = String(props.EventSourceArn);
  if (!/^arn:aws:(kinesis|dynamodb):/.test(source)) throw new UnsupportedProperty(`EventSourceArn ${source}: the local cloud maps Kinesis and DynamoDB streams only`);
  if (Number(props.TumblingWindowInSeconds ?? 0) !== 0) throw new UnsupportedProperty('TumblingWindowInSeconds (tumbling windows and their state) is not emulated by the local cloud');
  const startingPosition = String(props.StartingPosition ?? 'TRIM_HORIZON');
  if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST') throw new UnsupportedProperty(`StartingPosition ${startingPosition} is not emulated (TRIM_HORIZON or LATEST)`);
  const responseTypes = (props.FunctionResponseTypes as string[] | undefined) ?? [];
  return {
    batchSize: Number(props.BatchSize ?? 100),
    // Concurrent batches per shard, each key's records in order (stream-lanes.ts).
    parallelization: ranged(props, 'ParallelizationFactor', 1, 1, 10, false),
    batchWindowSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
    startingPosition,
    maxRetryAttempts: ranged(props, 'MaximumRetryAttempts', -1, 0, 10000),
    maxRecordAgeSeconds: ranged(props, 'MaximumRecordAgeInSeconds', -1, 60, 604800),
    bisectOnError: props.BisectBatchOnFunctionError === true || props.BisectBatchOnFunctionError === 'true',
    reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
    onFailureQueueUrl: onFailureQueue(props, queueUrl),
  };
}
