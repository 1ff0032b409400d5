import { randomUUID } from 'node:crypto';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { PortfolioEvent, portfolioEventId } from '@dataharvest/events/portfolio-event';
import { batchKey } from '@dataharvest/shared/metastore';
import { createTransformer } from '@dataharvest/shared/transformer';
import { definition as deposit } from '../../deposit/src/handler';
import { definition as tax } from '../../tax/src/handler';
import { definition as transaction } from '../../transaction/src/handler';
import { createHandler } from '../src/handler';
import { publish } from '../src/publish';
import { testAws } from '../../../test/support/clients';
import { context, FRIDA, FRITZ, SAMPLE_DATE, startChain, type Chain, type StreamHandler } from '../../../test/support/chain';

/** Everything on the output stream, as a consumer reading from TRIM_HORIZON sees it: shard by shard, each in order. */
async function published(kinesis: KinesisClient, stream: string): Promise<Array<{ partitionKey: string; event: PortfolioEvent; bytes: string }>> {
  const out = [];
  for (const shard of (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? []) {
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const { Records = [] } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
    out.push(
      ...Records.map((r) => ({ partitionKey: r.PartitionKey!, event: PortfolioEvent.parse(JSON.parse(Buffer.from(r.Data!).toString('utf8'))), bytes: Buffer.from(r.Data!).toString('base64') })),
    );
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

/** The deterministic id a portfolio's event carries for one version of the sample batch. */
const idOf = (portfolio: { portfolio_reference: string }, version: number) =>
  portfolioEventId({ type: 'portfolio.batch.v1', client: 'EXT_CLIENT', batch_date: SAMPLE_DATE, version, portfolio_reference: portfolio.portfolio_reference });

describe('catapult: one event per portfolio to the output Kinesis stream, then COMPLETE', () => {
  let chain: Chain;
  let stream: string;
  let transformers: StreamHandler[];
  let catapult: StreamHandler;
  let transformedRecord: KinesisStreamEvent;

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
    transformers = [deposit, transaction, tax].map((definition) => createTransformer(definition, chain.deps));
    catapult = createHandler({ ...chain.deps, kinesis: chain.aws.kinesis, eventsStream: stream });
  });
  afterAll(() => chain?.stop());

  it('completes the sample batch with exactly two events whose figures match the files', async () => {
    await chain.related('EXT_CLIENT');
    await transform();
    expect(await chain.passes('services/catapult', 'EXT_CLIENT', SAMPLE_DATE)).toBe(true);
    transformedRecord = await chain.event('EXT_CLIENT', SAMPLE_DATE);

    expect(await catapult(transformedRecord, context)).toEqual({ batchItemFailures: [] });
    expect(await chain.batch('EXT_CLIENT', SAMPLE_DATE)).toMatchObject({ stage: 'COMPLETE', generation: 1, events_published: 2 });
    const out = await published(chain.aws.kinesis, stream);
    expect(out.map((o) => o.partitionKey).sort()).toEqual([FRITZ.portfolio, FRIDA.portfolio]);
    expect(out.map((o) => o.event).sort((a, b) => a.portfolio_reference.localeCompare(b.portfolio_reference))).toEqual([
      { ...fritz, event_id: idOf(fritz, 1), version: 1, published_at: expect.any(String), lineage: expect.objectContaining({ generation: 1 }) },
      { ...frida, event_id: idOf(frida, 1), version: 1, published_at: expect.any(String), lineage: expect.objectContaining({ generation: 1 }) },
    ]);
  });

  it('writes to an on-demand stream, which the local cloud gives the 4 shards AWS starts one with', async () => {
    expect((await chain.aws.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards).toHaveLength(4);
  });

  it('gives each event a UUID-shaped id that is part of the contract: it never changes between releases', () => {
    // Consumers compare ids across deployments: a retry after a deploy must repeat the ids the first attempt sent.
    expect(idOf(frida, 1)).toBe('45d86550-3d40-88eb-a23f-99e5336dfe54');
    expect(idOf(frida, 1)).not.toBe(idOf(fritz, 1));
    expect(portfolioEventId({ type: 'portfolio.batch.v1', client: 'OTHER', batch_date: SAMPLE_DATE, version: 1, portfolio_reference: FRIDA.portfolio })).not.toBe(idOf(frida, 1));
    expect(portfolioEventId({ type: 'portfolio.batch.v1', client: 'EXT_CLIENT', batch_date: '20200131', version: 1, portfolio_reference: FRIDA.portfolio })).not.toBe(idOf(frida, 1));
  });

  it('publishes nothing for a replayed TRANSFORMED record', async () => {
    const before = await chain.batch('EXT_CLIENT', SAMPLE_DATE);
    expect(await catapult(transformedRecord, context)).toEqual({ batchItemFailures: [] });
    expect(await published(chain.aws.kinesis, stream)).toHaveLength(2);
    expect(await chain.batch('EXT_CLIENT', SAMPLE_DATE)).toEqual(before);
  });

  it('repeats the same events byte for byte, ids and all, when a catapult that crashed before COMPLETE is retried', async () => {
    const firstCopies = await published(chain.aws.kinesis, stream);
    const first = firstCopies.map((o) => o.event);
    // The crash: the events went out but COMPLETE was never written; Lambda delivers the same record again.
    const key = batchKey('EXT_CLIENT', SAMPLE_DATE);
    await new DynamoDBClient({ ...testAws(chain.services), endpoint: chain.services.endpoints.dynamodb }).send(
      new UpdateItemCommand({
        TableName: chain.metastore.tableName,
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
        UpdateExpression: 'SET stage = :t',
        ExpressionAttributeValues: { ':t': { S: 'TRANSFORMED' } },
      }),
    );
    expect(await catapult(transformedRecord, context)).toEqual({ batchItemFailures: [] });
    expect(await chain.batch('EXT_CLIENT', SAMPLE_DATE)).toMatchObject({ stage: 'COMPLETE', generation: 1, events_published: 2 });

    const copies = await published(chain.aws.kinesis, stream);
    const all = copies.map((o) => o.event);
    expect(all).toHaveLength(4);
    // Reproducible: the same version of the batch publishes the same bytes (published_at is the version's own time).
    expect(copies.map((o) => o.bytes).sort()).toEqual([...firstCopies, ...firstCopies].map((o) => o.bytes).sort());
    // Each of the first attempt's ids twice, and no other.
    expect(all.map((e) => e.event_id).sort()).toEqual([...first, ...first].map((e) => e.event_id).sort());
    // What a consumer keeps after dropping ids it has seen: the first attempt's events, figures and all.
    const kept = new Map<string, PortfolioEvent>();
    for (const e of all) if (!kept.has(e.event_id)) kept.set(e.event_id, e);
    expect([...kept.values()].map(({ published_at: _p, ...e }) => e).sort((a, b) => a.portfolio_reference.localeCompare(b.portfolio_reference))).toEqual(
      first.map(({ published_at: _p, ...e }) => e).sort((a, b) => a.portfolio_reference.localeCompare(b.portfolio_reference)),
    );
  });

  it('re-publishes the same figures under a higher version, with new event ids, after a corrected re-upload', async () => {
    const before = (await published(chain.aws.kinesis, stream)).map((o) => o.event);
    const { generation } = await chain.related('EXT_CLIENT');
    await transform();
    await chain.invoke(catapult, 'EXT_CLIENT', SAMPLE_DATE);
    expect(await chain.batch('EXT_CLIENT', SAMPLE_DATE)).toMatchObject({ stage: 'COMPLETE', generation, events_published: 2 });
    // Shard by shard, so the new events are picked by version rather than by position.
    const latest = (await published(chain.aws.kinesis, stream))
      .map((o) => o.event)
      .filter((e) => e.version === generation)
      .sort((a, b) => a.portfolio_reference.localeCompare(b.portfolio_reference));
    expect(generation).toBeGreaterThan(1);
    expect(latest).toEqual([
      { ...fritz, event_id: idOf(fritz, generation), version: generation, published_at: expect.any(String), lineage: expect.objectContaining({ generation }) },
      { ...frida, event_id: idOf(frida, generation), version: generation, published_at: expect.any(String), lineage: expect.objectContaining({ generation }) },
    ]);
    const earlierIds = new Set(before.map((e) => e.event_id));
    expect(latest.filter((e) => earlierIds.has(e.event_id))).toEqual([]);
  });

  it('publishes in PutRecords chunks of 500: 1,201 events all arrive, in order', async () => {
    const many = Array.from({ length: 1201 }, (_, i) => ({ ...frida, event_id: randomUUID(), version: 1, published_at: 'now', account_number: String(i) }) as unknown as PortfolioEvent);
    await publish(chain.aws.kinesis, stream, many);
    // One partition key, so one shard, in the order sent.
    const out = (await published(chain.aws.kinesis, stream)).filter((o) => o.event.published_at === 'now');
    expect(out.map((o) => o.event.account_number)).toEqual(many.map((e) => e.account_number));
  });
});
