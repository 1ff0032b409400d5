import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { PortfolioEvent } from '@dataharvest/events/portfolio-event';
import { kinesisClient } from '@dataharvest/shared/aws';
import { context, FRIDA, FRITZ, SAMPLE_DATE, startChain, type Chain, type StreamHandler } from '../../../test/support/chain';

/** Everything on the output stream, as a consumer reading from TRIM_HORIZON sees it. */
async function published(stream: string): Promise<Array<{ partitionKey: string; event: PortfolioEvent }>> {
  const kinesis = kinesisClient();
  const out = [];
  for (const shard of (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? []) {
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const { Records = [] } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
    out.push(...Records.map((r) => ({ partitionKey: r.PartitionKey!, event: PortfolioEvent.parse(JSON.parse(Buffer.from(r.Data!).toString('utf8'))) })));
  }
  return out;
}

/** What a person checks against the four sample files, per portfolio. */
const frida = {
  type: 'portfolio.batch.v1',
  client: 'EXT_CLIENT',
  batch_date: SAMPLE_DATE,
  portfolio_reference: FRIDA.portfolio,
  client_reference: FRIDA.client,
  account_number: FRIDA.account,
  deposits_total: '5000.00',
  deposits_running_total: '5000.00',
  transaction_count: 1,
  net_amount: '5000.00',
  totals_by_keyword: { DEPOSIT: '5000.00' },
  tax_free_allowance: '801.00',
  taxes_paid: '0.00',
  tax_transactions_total: '0.00',
  allowance_remaining: '801.00',
  tax_mismatch: false,
};
const fritz = {
  type: 'portfolio.batch.v1',
  client: 'EXT_CLIENT',
  batch_date: SAMPLE_DATE,
  portfolio_reference: FRITZ.portfolio,
  client_reference: FRITZ.client,
  account_number: FRITZ.account,
  deposits_total: '0.00',
  deposits_running_total: '0.00',
  transaction_count: 1,
  net_amount: '-789.56',
  totals_by_keyword: { TAX: '-789.56' },
  tax_free_allowance: '0.00',
  taxes_paid: '789.56',
  tax_transactions_total: '-789.56',
  allowance_remaining: '0.00',
  tax_mismatch: false,
};

describe('catapult: one event per portfolio to the output Kinesis stream, then COMPLETE', () => {
  let chain: Chain;
  let stream: string;
  let transformers: StreamHandler[];
  let catapult: StreamHandler;
  let transformedRecord: DynamoDBStreamEvent;

  /** deposit and transaction leave the batch RELATED; tax, the last required one, moves it to TRANSFORMED. */
  const transform = async () => {
    for (const [i, handler] of transformers.entries()) {
      await chain.invoke(handler, 'EXT_CLIENT', SAMPLE_DATE);
      expect((await chain.batch('EXT_CLIENT', SAMPLE_DATE)).stage).toBe(i < transformers.length - 1 ? 'RELATED' : 'TRANSFORMED');
    }
  };

  beforeAll(async () => {
    chain = await startChain();
    [stream] = (await chain.createAll('services/catapult', 'AWS::Kinesis::Stream')) as [string];
    process.env.EVENTS_STREAM = stream;
    // One import at a time: jest's ESM loader trips over concurrent imports of shared modules.
    transformers = [(await import('../../deposit/src/handler')).handler, (await import('../../transaction/src/handler')).handler, (await import('../../tax/src/handler')).handler];
    ({ handler: catapult } = await import('../src/handler'));
  });
  afterAll(() => chain?.stop());

  it('completes the sample batch with exactly two events whose figures match the files', async () => {
    await chain.related('EXT_CLIENT');
    await transform();
    expect(await chain.passes('services/catapult', 'EXT_CLIENT', SAMPLE_DATE)).toBe(true);
    transformedRecord = await chain.event('EXT_CLIENT', SAMPLE_DATE);

    expect(await catapult(transformedRecord, context)).toEqual({ batchItemFailures: [] });
    expect(await chain.batch('EXT_CLIENT', SAMPLE_DATE)).toMatchObject({ stage: 'COMPLETE', generation: 1, events_published: 2 });
    const out = await published(stream);
    expect(out.map((o) => o.partitionKey).sort()).toEqual([FRITZ.portfolio, FRIDA.portfolio]);
    expect(out.map((o) => o.event).sort((a, b) => a.portfolio_reference.localeCompare(b.portfolio_reference))).toEqual([
      { ...fritz, version: 1, published_at: expect.any(String) },
      { ...frida, version: 1, published_at: expect.any(String) },
    ]);
  });

  it('publishes nothing for a replayed TRANSFORMED record', async () => {
    const before = await chain.batch('EXT_CLIENT', SAMPLE_DATE);
    expect(await catapult(transformedRecord, context)).toEqual({ batchItemFailures: [] });
    expect(await published(stream)).toHaveLength(2);
    expect(await chain.batch('EXT_CLIENT', SAMPLE_DATE)).toEqual(before);
  });

  it('re-publishes the same figures under a higher version after a corrected re-upload', async () => {
    const { generation } = await chain.related('EXT_CLIENT');
    await transform();
    await chain.invoke(catapult, 'EXT_CLIENT', SAMPLE_DATE);
    expect(await chain.batch('EXT_CLIENT', SAMPLE_DATE)).toMatchObject({ stage: 'COMPLETE', generation, events_published: 2 });
    const latest = (await published(stream))
      .slice(2)
      .map((o) => o.event)
      .sort((a, b) => a.portfolio_reference.localeCompare(b.portfolio_reference));
    expect(generation).toBeGreaterThan(1);
    expect(latest).toEqual([
      { ...fritz, version: generation, published_at: expect.any(String) },
      { ...frida, version: generation, published_at: expect.any(String) },
    ]);
  });

  it('publishes in PutRecords chunks of 500: 1,201 events all arrive, in order', async () => {
    const { publish } = await import('../src/publish');
    const before = (await published(stream)).length;
    const many = Array.from({ length: 1201 }, (_, i) => ({ ...frida, version: 1, published_at: 'now', account_number: String(i) }) as PortfolioEvent);
    await publish(stream, many);
    const out = (await published(stream)).slice(before);
    expect(out.map((o) => o.event.account_number)).toEqual(many.map((e) => e.account_number));
  });
});
