import { readFileSync } from 'node:fs';
import type { _Record as DdbRecord } from '@aws-sdk/client-dynamodb-streams';
import { type ChangeRecord, changeData } from '../src/cloud/event-sources/change-feed';
import { asyncFailureRecord, streamFailureRecord } from '../src/cloud/event-sources/failure-destination';
import { s3NotificationEvent } from '../src/cloud/event-sources/s3-notifications';
import { dynamodbRecord, kinesisRecord } from '../src/cloud/event-sources/stream-sources';

/** AWS's documented sample events: fixtures/aws-events/README.md names the page each comes from. */
const sample = (name: string) => JSON.parse(readFileSync(new URL(`fixtures/aws-events/${name}.json`, import.meta.url), 'utf8'));

/** The keys and value types of a JSON value, all the way down: what a handler can rely on. */
const shape = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(shape);
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, shape(v)])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
};
/** As the function receives it: through JSON. */
const delivered = (value: unknown) => JSON.parse(JSON.stringify(value));

const s3 = sample('s3-put');
const kinesis = sample('kinesis');
const dynamodb = sample('dynamodb');
const change = sample('dynamodb-kinesis-change');
const asyncFailure = sample('async-on-failure');
const kinesisFailure = sample('kinesis-on-failure');
const dynamodbFailure = sample('dynamodb-on-failure');
const records = [
  { sequenceNumber: '1', arrival: new Date(), event: {} },
  { sequenceNumber: '2', arrival: new Date(), event: {} },
];

/** Each row builds the local cloud's event from the sample's own values, so that only the shape can differ. */
const rows: Array<[string, unknown, () => unknown]> = [
  [
    'S3 notification',
    s3,
    () => {
      const o = s3.Records[0].s3.object;
      return s3NotificationEvent(
        {
          Records: [
            {
              eventName: 'ObjectCreated:Put',
              eventTime: s3.Records[0].eventTime,
              s3: { bucket: { name: 'example-bucket' }, object: { key: 'test/key', size: o.size, eTag: o.eTag, sequencer: o.sequencer } },
            },
          ],
        },
        'testConfigRule',
      );
    },
  ],
  [
    'Kinesis records',
    kinesis,
    () => {
      const k = kinesis.Records[0].kinesis;
      const r = { PartitionKey: k.partitionKey, SequenceNumber: k.sequenceNumber, Data: Buffer.from(k.data, 'base64'), ApproximateArrivalTimestamp: new Date(k.approximateArrivalTimestamp * 1000) };
      return { Records: [kinesisRecord(r, 'shardId-000000000006', kinesis.Records[0].eventSourceARN).event] };
    },
  ],
  [
    'DynamoDB stream records',
    dynamodb,
    () => ({
      Records: dynamodb.Records.map(
        (r: { dynamodb: Record<string, unknown> } & Record<string, unknown>) =>
          dynamodbRecord(
            { ...r, dynamodb: { ...r.dynamodb, ApproximateCreationDateTime: new Date((r.dynamodb.ApproximateCreationDateTime as number) * 1000) } } as DdbRecord,
            r.eventSourceARN as string,
          ).event,
      ),
    }),
  ],
  ['Kinesis Data Streams for DynamoDB record data', change, () => changeData('Music', changeRecord(), 'MICROSECOND')],
  [
    'asynchronous on-failure record (the function error aside)',
    { ...asyncFailure, responsePayload: undefined },
    () => ({
      ...asyncFailureRecord({
        requestId: 'e4b46cbf-b738-xmpl-8880-a18cdf61200e',
        functionArn: 'arn:aws:lambda:us-east-2:123456789012:function:my-function',
        condition: 'RetriesExhausted',
        attempts: 3,
        event: asyncFailure.requestPayload,
        error: new Error('failed'),
      }),
      responsePayload: undefined,
    }),
  ],
  ['Kinesis on-failure record', kinesisFailure, () => streamFailure('kinesis')],
  ['DynamoDB Streams on-failure record', dynamodbFailure, () => streamFailure('dynamodb')],
];

function changeRecord(): ChangeRecord {
  const { ApproximateCreationDateTimePrecision: _, ...d } = change.dynamodb;
  return { ...change, userIdentity: undefined, dynamodb: { ...d, ApproximateCreationDateTime: 1720740233 } };
}

function streamFailure(kind: 'kinesis' | 'dynamodb') {
  const info = (kind === 'kinesis' ? kinesisFailure.KinesisBatchInfo : dynamodbFailure.DDBStreamBatchInfo) as { shardId: string; streamArn: string };
  return streamFailureRecord({
    kind,
    functionArn: 'arn:aws:lambda:us-east-2:123456789012:function:myfunction',
    streamArn: info.streamArn,
    shardId: info.shardId,
    records,
    invokes: 1,
    functionError: true,
    condition: 'RetryAttemptsExhausted',
  });
}

describe('the events the local cloud hands functions and destinations, against AWS sample events', () => {
  it.each(rows)('%s has the keys and value types AWS documents', (_name, aws, local) => {
    expect(shape(delivered(local()))).toEqual(shape(aws));
  });

  it("writes the change feed's creation time in the table's precision, microseconds unless it says otherwise", () => {
    const digits = (precision: 'MICROSECOND' | 'MILLISECOND') => String(changeData('Music', changeRecord(), precision).dynamodb.ApproximateCreationDateTime).length;
    expect(digits('MICROSECOND')).toBe(String(change.dynamodb.ApproximateCreationDateTime).length);
    expect(digits('MILLISECOND')).toBe(13);
    expect(changeData('Music', changeRecord(), 'MILLISECOND').dynamodb.ApproximateCreationDateTimePrecision).toBe('MILLISECOND');
  });

  it("gives the asynchronous on-failure record the function's error as the Node.js runtime reports it", () => {
    const record = asyncFailureRecord({
      requestId: 'r',
      functionArn: 'arn:fn',
      condition: 'RetriesExhausted',
      attempts: 3,
      event: {},
      error: Object.assign(new Error('asked to fail'), { errorType: 'FixtureError' }),
    });
    expect(record.responsePayload).toEqual({ errorType: 'FixtureError', errorMessage: 'asked to fail' });
    expect(typeof asyncFailure.responsePayload.errorMessage).toBe('string');
  });
});
