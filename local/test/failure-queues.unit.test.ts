import type { ErasureFailure } from '@dataharvest/events/erasure';
import type { FailureRecord } from '@dataharvest/events/failure';
import { describe as describeMessage } from '../src/cli/failure-queues';
import { asyncFailureRecord, streamFailureRecord } from '../src/cloud/event-sources/failure-destination';

const queue = { service: 'deposit', url: 'http://127.0.0.1/000000000000/dataharvest-deposit-failures-dev' };
const message = (body: unknown) => ({ MessageId: 'm-1', ReceiptHandle: 'r-1', Body: JSON.stringify(body) });
const failure: FailureRecord = {
  pk: 'CLIENT#ACME',
  sk: 'FAILURE#20200130#deposit',
  client: 'ACME',
  batch_date: '20200130',
  function: 'deposit',
  generation: 2,
  reason: 'error: database "dataharvest" is not currently accepting connections',
  attempts: 4,
  first_seen: '2026-01-01T00:00:00.000Z',
  last_seen: '2026-01-01T00:00:02.000Z',
  gave_up: true,
  shard_id: 'shardId-000000000001',
  sequence_number: '49600000000000000000000000000000000000000000000000000012',
  sequence_numbers: ['49600000000000000000000000000000000000000000000000000012'],
};
const streamMessage = (shardId: string, from: string, to: string) =>
  message(
    streamFailureRecord({
      kind: 'kinesis',
      functionArn: 'arn:aws:lambda:eu-central-1:000000000000:function:dataharvest-deposit-dev-transform',
      streamArn: 'arn:aws:kinesis:eu-central-1:000000000000:stream/changes',
      shardId,
      records: [
        { sequenceNumber: from, arrival: new Date(), event: {} },
        { sequenceNumber: to, arrival: new Date(), event: {} },
      ] as never,
      invokes: 4,
      functionError: false,
      condition: 'RetryAttemptsExhausted',
    }),
  );

describe('an on-failure message mapped back to its batch', () => {
  it('finds the failure item whose sequence number lies in the message range of the same shard and service', () => {
    const mapped = describeMessage(
      streamMessage('shardId-000000000001', '49600000000000000000000000000000000000000000000000000010', '49600000000000000000000000000000000000000000000000000020'),
      queue,
      [failure],
    );
    expect(mapped).toMatchObject({ id: 'm-1', service: 'deposit', client: 'ACME', batchDate: '20200130', generation: 2, attempts: 4, reason: failure.reason, condition: 'RetryAttemptsExhausted' });
    expect(mapped.failure).toBe(failure);
  });

  it.each([
    ['another shard', 'shardId-000000000002', '49600000000000000000000000000000000000000000000000000010', '49600000000000000000000000000000000000000000000000000020'],
    ['a range before it', 'shardId-000000000001', '49600000000000000000000000000000000000000000000000000001', '49600000000000000000000000000000000000000000000000000011'],
    ['a range after it', 'shardId-000000000001', '49600000000000000000000000000000000000000000000000000013', '49600000000000000000000000000000000000000000000000000020'],
  ])('names no batch for %s', (_, shard, from, to) => {
    const mapped = describeMessage(streamMessage(shard, from, to), queue, [failure]);
    expect(mapped.failure).toBeUndefined();
    expect(mapped).toMatchObject({ shardId: shard, sequenceNumbers: [from, to], reason: 'not recorded in the metastore (RetryAttemptsExhausted)' });
    expect(mapped.client).toBeUndefined();
  });

  it("does not take another service's failure item for the same shard", () => {
    const mapped = describeMessage(streamMessage('shardId-000000000001', failure.sequence_number!, failure.sequence_number!), { ...queue, service: 'tax' }, [failure]);
    expect(mapped.failure).toBeUndefined();
  });

  it("maps the privacy service's message to the erasure request whose record failed, with what it could not erase", () => {
    const erasure: ErasureFailure = {
      pk: 'ERASURE_FAILURE',
      sk: `2026-01-01T00:00:00.000Z#${'a'.repeat(64)}`,
      reason: 'ErasureIncompleteError: 1 object not erased',
      not_erased: [{ key: 'quarantine/ACME/clients_20200131.csv', reason: 'ObjectNotRestoredError: in Glacier' }],
      attempts: 6,
      first_seen: '2026-01-01T00:00:01.000Z',
      last_seen: '2026-01-01T00:00:09.000Z',
      shard_id: failure.shard_id!,
      sequence_number: failure.sequence_number!,
      record_attempts: 6,
      sequence_numbers: failure.sequence_numbers!,
    };
    const privacy = { ...queue, service: 'privacy' };
    const mapped = describeMessage(streamMessage('shardId-000000000001', failure.sequence_number!, failure.sequence_number!), privacy, [failure], [erasure]);
    expect(mapped).toMatchObject({ service: 'privacy', erasure: { request: erasure.sk, notErased: erasure.not_erased }, reason: erasure.reason, attempts: 6, firstSeen: erasure.first_seen });
    expect([mapped.failure, mapped.client]).toEqual([undefined, undefined]);
    // Another service's message on the same record is not the erasure's.
    expect(describeMessage(streamMessage('shardId-000000000001', failure.sequence_number!, failure.sequence_number!), queue, [], [erasure]).erasure).toBeUndefined();
  });

  it('names the client and batch of an S3-triggered failure from its object key, and its error', () => {
    const event = { Records: [{ s3: { object: { key: 'incoming/ACME/accounts_20200130.csv' } } }] };
    const body = asyncFailureRecord({ requestId: 'r', functionArn: 'arn:fn', condition: 'RetriesExhausted', attempts: 3, event, error: { name: 'TimeoutError', message: 'read timed out' } });
    expect(describeMessage(message(body), { ...queue, service: 'persistence' }, [])).toMatchObject({
      service: 'persistence',
      client: 'ACME',
      batchDate: '20200130',
      objectKey: 'incoming/ACME/accounts_20200130.csv',
      attempts: 3,
      reason: 'TimeoutError: read timed out',
    });
  });
});
