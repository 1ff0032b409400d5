import { firstFailure, fitting, throttleBackoff } from '../src/cloud/event-sources/stream-batch';
import { MAX_PAYLOAD_BYTES } from '../src/cloud/lambda/payload-limits';
import type { SourceRecord } from '../src/cloud/event-sources/stream-sources';

const record = (sequenceNumber: string, event: Record<string, unknown> = { a: 'x' }): SourceRecord => ({ sequenceNumber, arrival: new Date(0), event });
/** `{"Records":[]}` plus each event's JSON plus the commas between them. */
const payload = (records: SourceRecord[]) => Buffer.byteLength(JSON.stringify({ Records: records.map((r) => r.event) }));

describe('fitting: how many records of a stream batch fit one invocation payload', () => {
  const three = [record('1'), record('2', { a: 'é' }), record('3')];

  it('is all of them when the whole payload fits, exactly at the limit included', () => {
    expect(fitting(three, payload(three))).toBe(3);
    expect(fitting([], 0)).toBe(0);
  });

  it('stops before the record that takes the payload, counted in UTF-8 bytes with its comma, over the limit', () => {
    expect(fitting(three, payload(three) - 1)).toBe(2);
    expect(fitting(three, payload(three.slice(0, 2)))).toBe(2);
    expect(fitting(three, payload(three.slice(0, 2)) - 1)).toBe(1);
  });

  it('is at least one, so a record larger than the limit is still delivered (and refused by the invoke)', () => {
    expect(fitting(three, 1)).toBe(1);
  });

  it("uses Lambda's 6 MB synchronous payload limit by default", () => {
    expect(MAX_PAYLOAD_BYTES).toBe(6 * 1024 * 1024);
    const overhead = payload([record('1', { a: '' })]);
    const exactly = record('1', { a: 'x'.repeat(MAX_PAYLOAD_BYTES - overhead) });
    expect(fitting([exactly, record('2')])).toBe(1);
    expect(fitting([record('0', { a: 'x'.repeat(MAX_PAYLOAD_BYTES - overhead - 10) }), record('2')])).toBe(2);
  });
});

describe('firstFailure: the first failed record of a partial batch response', () => {
  const records = [record('100'), record('200'), record('300')];

  it('is none when the response names no failure: no response, no list, a null or an empty list', () => {
    for (const response of [undefined, null, {}, { batchItemFailures: null }, { batchItemFailures: [] }, 'done']) expect(firstFailure(response, records)).toBeUndefined();
  });

  it('is the earliest record named, whatever the order of the list', () => {
    expect(firstFailure({ batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '200' }] }, records)).toBe(1);
    expect(firstFailure({ batchItemFailures: [{ itemIdentifier: '300' }] }, records)).toBe(2);
  });

  it('fails the whole batch when the list is malformed or names a record not in the batch', () => {
    expect(firstFailure({ batchItemFailures: 'all' }, records)).toBe(0);
    expect(firstFailure({ batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '999' }] }, records)).toBe(0);
    expect(firstFailure({ batchItemFailures: [{ itemIdentifier: '300' }, null] }, records)).toBe(0);
    expect(firstFailure({ batchItemFailures: [{ itemIdentifier: '300' }, {}] }, records)).toBe(0);
  });
});

describe('throttleBackoff: how long a throttled batch waits before it tries again', () => {
  it('doubles from 50 ms and stays at 400 ms', () => {
    expect([1, 2, 3, 4, 5, 50].map(throttleBackoff)).toEqual([50, 100, 200, 400, 400, 400]);
  });
});
