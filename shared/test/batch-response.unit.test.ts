import type { KinesisStreamRecord } from 'aws-lambda';
import { handleInOrder } from '../src/batch-response';

/** Records whose data is a key (or `?` for one that cannot be read); the sequence number is the position. */
const records = (...keys: string[]) => keys.map((key, i) => ({ kinesis: { sequenceNumber: String(i), data: key } }) as KinesisStreamRecord);
const reported = (response: { batchItemFailures: Array<{ itemIdentifier: string }> }) => response.batchItemFailures.map((f) => f.itemIdentifier);

/** Handles records, failing those whose key is in `failing`; returns the keys handled and the sequence numbers reported. */
async function run(keys: string[], failing: string[], keyed: boolean) {
  const handled: string[] = [];
  const response = await handleInOrder(
    records(...keys),
    async (record) => {
      handled.push(`${record.kinesis.sequenceNumber}:${record.kinesis.data}`);
      if (failing.includes(record.kinesis.data)) throw new Error(`${record.kinesis.data} failed`);
    },
    keyed
      ? {
          keyOf: (record) => {
            if (record.kinesis.data === '?') throw new Error('unreadable');
            return record.kinesis.data === '-' ? undefined : record.kinesis.data;
          },
        }
      : {},
  );
  return { handled, reported: reported(response) };
}

describe('handleInOrder: a partial batch response', () => {
  it('reports nothing when every record is handled', async () => {
    expect(await run(['a', 'b'], [], false)).toEqual({ handled: ['0:a', '1:b'], reported: [] });
    expect(await run(['a', 'b'], [], true)).toEqual({ handled: ['0:a', '1:b'], reported: [] });
  });

  it('stops at the first failure by default, reporting it and every record after it', async () => {
    expect(await run(['a', 'b', 'c'], ['b'], false)).toEqual({ handled: ['0:a', '1:b'], reported: ['1', '2'] });
  });

  it("skipping the key: a failure holds up only its key's later records, reported from the first failure", async () => {
    expect(await run(['a', 'b', 'a', 'c', 'b'], ['a'], true)).toEqual({ handled: ['0:a', '1:b', '3:c', '4:b'], reported: ['0', '1', '2', '3', '4'] });
    expect(await run(['a', 'b', 'c', 'b'], ['b'], true)).toEqual({ handled: ['0:a', '1:b', '2:c'], reported: ['1', '2', '3'] });
  });

  it('skipping the key: a record without a key, or one that cannot be read, stops the invocation there', async () => {
    expect(await run(['a', '-', 'c'], ['-'], true)).toEqual({ handled: ['0:a', '1:-'], reported: ['1', '2'] });
    expect(await run(['a', 'b', '?', 'c'], ['a'], true)).toEqual({ handled: ['0:a', '1:b'], reported: ['0', '1', '2', '3'] });
  });
});
