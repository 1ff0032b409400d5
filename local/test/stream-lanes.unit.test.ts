import { orderingKey, StreamLanes } from '../src/cloud/event-sources/stream-lanes';
import type { SourceRecord } from '../src/cloud/event-sources/stream-sources';

const kinesis = (sequenceNumber: string, partitionKey: string): SourceRecord => ({ sequenceNumber, arrival: new Date(0), event: { kinesis: { partitionKey, sequenceNumber } } });
const lanesOf = (count: number) => new StreamLanes(count, (r) => orderingKey('kinesis', r));
const sequences = (lane: SourceRecord[]) => lane.map((r) => r.sequenceNumber);

describe('orderingKey: what Lambda keeps in order across concurrent batches', () => {
  it("is a Kinesis record's partition key", () => {
    expect(orderingKey('kinesis', kinesis('1', 'client-a'))).toBe('client-a');
  });

  it("is a DynamoDB record's whole item key, partition and sort", () => {
    const item = (sk: string): SourceRecord => ({ sequenceNumber: '1', arrival: new Date(0), event: { dynamodb: { Keys: { pk: { S: 'a' }, sk: { S: sk } } } } });
    expect(orderingKey('dynamodb', item('1'))).toBe(orderingKey('dynamodb', item('1')));
    expect(orderingKey('dynamodb', item('1'))).not.toBe(orderingKey('dynamodb', item('2')));
  });
});

describe('StreamLanes: the concurrent batches of one shard', () => {
  it('spreads keys over the lanes, least loaded first, and keeps each key in one lane in shard order', () => {
    const lanes = lanesOf(3);
    const records = ['a', 'b', 'c', 'a', 'd', 'b', 'a'].map((key, i) => kinesis(String(i + 1), key));
    for (const r of records) lanes.read(r, true);
    // a, b, c take a lane each; d joins the least loaded, the first of b's and c's; a and b stay where they are.
    expect(lanes.pending.map(sequences)).toEqual([['1', '4', '7'], ['2', '5', '6'], ['3']]);
  });

  it('puts everything in one lane with a factor of 1, in shard order', () => {
    const lanes = lanesOf(1);
    for (const [i, key] of ['a', 'b', 'a'].entries()) lanes.read(kinesis(String(i + 1), key), true);
    expect(lanes.pending.map(sequences)).toEqual([['1', '2', '3']]);
  });

  it('moves a key to another lane only once none of its records is outstanding', () => {
    const lanes = lanesOf(2);
    const [a1, b1, a2] = [kinesis('1', 'a'), kinesis('2', 'b'), kinesis('3', 'a')];
    for (const r of [a1!, b1!, a2!]) lanes.read(r, true);
    const batch = lanes.pending[0]!.splice(0, 1); // a1 in flight, a2 still pending in lane 0
    lanes.settle(batch);
    lanes.read(kinesis('4', 'c'), true); // lane 0 (a2) and lane 1 (b1) are equally loaded: the first wins
    lanes.read(kinesis('5', 'a'), true); // a2 is still outstanding: a stays in lane 0
    expect(lanes.pending.map(sequences)).toEqual([['3', '4', '5'], ['2']]);
    lanes.settle(lanes.pending[0]!.splice(0));
    lanes.read(kinesis('6', 'a'), true); // a has nothing outstanding: the least loaded lane, now lane 0
    lanes.settle(lanes.pending[1]!.splice(0));
    lanes.read(kinesis('7', 'a'), true); // a6 is outstanding in lane 0, though lane 1 is empty
    expect(lanes.pending.map(sequences)).toEqual([['6', '7'], []]);
  });

  it('checkpoints only past records settled together with every record read before them', () => {
    const lanes = lanesOf(2);
    expect(lanes.checkpoint()).toBeUndefined();
    const [a1, b1, a2, b2] = [kinesis('1', 'a'), kinesis('2', 'b'), kinesis('3', 'a'), kinesis('4', 'b')];
    for (const r of [a1!, b1!, a2!, b2!]) lanes.read(r, true);
    expect(lanes.checkpoint()).toBeUndefined();
    lanes.settle([b1!, b2!]); // the second lane is done, the first is not: nothing may be checkpointed yet
    expect(lanes.checkpoint()).toBeUndefined();
    expect(lanes.outstanding()).toBe(2);
    lanes.settle([a1!]);
    expect(lanes.checkpoint()).toBe('2');
    lanes.settle([a2!]);
    expect(lanes.checkpoint()).toBe('4');
    expect(lanes.outstanding()).toBe(0);
  });

  it('counts records the filters drop as settled, so the checkpoint passes them', () => {
    const lanes = lanesOf(2);
    const kept = kinesis('2', 'a');
    lanes.read(kinesis('1', 'a'), false);
    lanes.read(kept, true);
    lanes.read(kinesis('3', 'b'), false);
    expect(lanes.pending.map(sequences)).toEqual([['2'], []]);
    expect(lanes.checkpoint()).toBe('1');
    lanes.settle([kept]);
    expect(lanes.checkpoint()).toBe('3');
  });

  it('ignores records settled twice (a batch bisected and settled again)', () => {
    const lanes = lanesOf(1);
    const [a1, a2] = [kinesis('1', 'a'), kinesis('2', 'a')];
    lanes.read(a1!, true);
    lanes.read(a2!, true);
    lanes.settle([a1!]);
    lanes.settle([a1!]);
    expect(lanes.outstanding()).toBe(1);
    lanes.read(kinesis('3', 'b'), true);
    expect(lanes.pending.map(sequences)).toEqual([['1', '2', '3']]);
  });
});
