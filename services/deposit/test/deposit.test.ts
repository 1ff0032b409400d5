import { createTransformer } from '@dataharvest/shared/transformer';
import { context, FRIDA, FRITZ, SAMPLE_DATE, sampleRows, startChain, type Chain, type StreamHandler } from '../../../test/support/chain';
import { definition } from '../src/handler';

describe('deposit: DEPOSIT sums per portfolio and client, with running totals across batches', () => {
  let chain: Chain;
  let deposit: StreamHandler;
  const tables = () =>
    Promise.all([
      chain.query(`SELECT batch_date::text, portfolio_reference, deposit_count, deposits_total, running_total FROM portfolio_deposits WHERE client = 'EXT_CLIENT' ORDER BY 1, 2`),
      chain.query(`SELECT batch_date::text, client_reference, deposit_count, deposits_total, running_total FROM client_deposits WHERE client = 'EXT_CLIENT' ORDER BY 1, 2`),
    ]);

  beforeAll(async () => {
    chain = await startChain();
    deposit = createTransformer(definition, chain.deps);
  });
  afterAll(() => chain?.stop());

  it("sums the sample batch: 5000.00 deposited into Frida's portfolio, nothing into Fritz's", async () => {
    await chain.related('EXT_CLIENT');
    expect(await chain.invoke(deposit, 'EXT_CLIENT', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    expect(await tables()).toEqual([
      [
        { batch_date: '2020-01-30', portfolio_reference: FRITZ.portfolio, deposit_count: 0, deposits_total: '0.00', running_total: '0.00' },
        { batch_date: '2020-01-30', portfolio_reference: FRIDA.portfolio, deposit_count: 1, deposits_total: '5000.00', running_total: '5000.00' },
      ],
      [
        { batch_date: '2020-01-30', client_reference: FRIDA.client, deposit_count: 1, deposits_total: '5000.00', running_total: '5000.00' },
        { batch_date: '2020-01-30', client_reference: FRITZ.client, deposit_count: 0, deposits_total: '0.00', running_total: '0.00' },
      ],
    ]);
    const batch = await chain.batch('EXT_CLIENT', SAMPLE_DATE);
    expect(batch.transformers.deposit).toMatchObject({ status: 'DONE', generation: 1 });
    expect(batch.stage).toBe('RELATED'); // transaction and tax are still to come
  });

  it('skips a replayed record: this generation is already done', async () => {
    const before = await chain.batch('EXT_CLIENT', SAMPLE_DATE);
    expect(await chain.invoke(deposit, 'EXT_CLIENT', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    expect((await chain.batch('EXT_CLIENT', SAMPLE_DATE)).transformers.deposit).toEqual(before.transformers.deposit);
  });

  it("carries the running total into the next day's batch: 5000.00 + 5000.00", async () => {
    await chain.related('EXT_CLIENT', '20200131');
    await chain.invoke(deposit, 'EXT_CLIENT', '20200131');
    const [portfolios, clients] = await tables();
    expect(portfolios.filter((r) => r.batch_date === '2020-01-31')).toEqual([
      { batch_date: '2020-01-31', portfolio_reference: FRITZ.portfolio, deposit_count: 0, deposits_total: '0.00', running_total: '0.00' },
      { batch_date: '2020-01-31', portfolio_reference: FRIDA.portfolio, deposit_count: 1, deposits_total: '5000.00', running_total: '10000.00' },
    ]);
    expect(clients.find((r) => r.batch_date === '2020-01-31' && r.client_reference === FRIDA.client)).toMatchObject({ running_total: '10000.00' });
  });

  it('counts every earlier batch in the running total, not just the previous day, so deposits before a gap are not lost', async () => {
    for (const date of ['20200127', SAMPLE_DATE, '20200131']) {
      await chain.related('GAPS', date);
      await chain.invoke(deposit, 'GAPS', date);
    }
    const running = (table: string, key: string, id: string) => chain.query(`SELECT batch_date::text, running_total FROM ${table} WHERE client = 'GAPS' AND ${key} = $1 ORDER BY 1`, [id]);
    const expected = [
      { batch_date: '2020-01-27', running_total: '5000.00' },
      { batch_date: '2020-01-30', running_total: '10000.00' },
      { batch_date: '2020-01-31', running_total: '15000.00' },
    ];
    expect(await running('portfolio_deposits', 'portfolio_reference', FRIDA.portfolio)).toEqual(expected);
    expect(await running('client_deposits', 'client_reference', FRIDA.client)).toEqual(expected);
  });

  it('gives identical tables when re-uploads run it again for both days', async () => {
    const before = await tables();
    for (const date of [SAMPLE_DATE, '20200131']) {
      await chain.related('EXT_CLIENT', date);
      await chain.invoke(deposit, 'EXT_CLIENT', date);
    }
    expect(await tables()).toEqual(before);
  });

  it('does not record a result for a generation that a re-upload has replaced', async () => {
    const stale = await chain.event('EXT_CLIENT', SAMPLE_DATE);
    const next = await chain.persist('EXT_CLIENT', SAMPLE_DATE, ['accounts']);
    expect(await deposit(stale, context)).toEqual({ batchItemFailures: [] });
    const batch = await chain.batch('EXT_CLIENT', SAMPLE_DATE);
    expect(batch.generation).toBe(next.generation);
    expect(batch.transformers.deposit).toBeUndefined();
  });
  it('sends a later batch round again when an earlier one arrives after it, so its running totals match a clean run', async () => {
    const running = async (date: string) =>
      (await chain.query(`SELECT running_total FROM portfolio_deposits WHERE client = 'LATE' AND batch_date = $1 AND portfolio_reference = $2`, [date, FRIDA.portfolio]))[0]?.running_total;
    await chain.related('LATE', '20200131');
    await chain.invoke(deposit, 'LATE', '20200131');
    expect(await running('2020-01-31')).toBe('5000.00'); // nothing earlier yet

    await chain.related('LATE', SAMPLE_DATE);
    await chain.invoke(deposit, 'LATE', SAMPLE_DATE);
    expect(await chain.batch('LATE', '20200131')).toMatchObject({ stage: 'PERSISTED', generation: 2, transformers: {} });
    await chain.related('LATE', '20200131'); // its chain runs again
    await chain.invoke(deposit, 'LATE', '20200131');
    expect(await running('2020-01-31')).toBe('10000.00');

    // A correction that leaves the earlier batch's totals as they were does not disturb the later one.
    const { generation } = await chain.batch('LATE', '20200131');
    await chain.related('LATE', SAMPLE_DATE);
    await chain.invoke(deposit, 'LATE', SAMPLE_DATE);
    expect((await chain.batch('LATE', '20200131')).generation).toBe(generation);
  });

  it('fails the batch, without retries, when its data overflows the money type', async () => {
    const rows = sampleRows();
    rows.transactions = [1, 2].map((id) => ({ record_id: String(id), account_number: FRIDA.account, transaction_reference: `big${id}`, amount: '999999999999999.99', keyword: 'DEPOSIT' }));
    await chain.related('HUGE', SAMPLE_DATE, rows);
    expect(await chain.invoke(deposit, 'HUGE', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    const batch = await chain.batch('HUGE', SAMPLE_DATE);
    expect(batch.stage).toBe('FAILED');
    expect(batch.transformers.deposit).toMatchObject({ status: 'FAILED', generation: 1, reason: expect.stringContaining('numeric field overflow') });
  });
});
