import { context, FRIDA, FRITZ, SAMPLE_DATE, sampleRows, startChain, type Chain, type Rows, type StreamHandler } from '../../../test/support/chain';
import { createHandler } from '../src/handler';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const account = (record_id: string, account_number: string, taxes_paid = '0.00') => ({ record_id, account_number, cash_balance: '1.00', currency: 'EUR', taxes_paid });
const person = (record_id: string, client_reference: string) => ({ record_id, first_name: 'A', last_name: 'B', client_reference, tax_free_allowance: '801.00' });
const portfolio = (record_id: string, portfolio_reference: string, account_number: string, client_reference: string) => ({
  record_id,
  account_number,
  portfolio_reference,
  client_reference,
  agent_code: 'AGENT',
});
const transaction = (record_id: string, account_number: string, amount: string) => ({ record_id, account_number, transaction_reference: `t${record_id}`, amount, keyword: 'DEPOSIT' });

const NO_ISSUES = {
  portfolio_without_client: 0,
  portfolio_without_account: 0,
  transaction_without_account: 0,
  account_without_portfolio: 0,
  client_without_portfolio: 0,
  duplicate_portfolio_reference: 0,
  duplicate_client_reference: 0,
  duplicate_account_number: 0,
};

describe('relationship: links the four files of a batch and counts what cannot be linked', () => {
  let chain: Chain;
  let relate: StreamHandler;
  const links = () =>
    Promise.all([
      chain.query(`SELECT portfolio_reference, client_reference, account_number FROM portfolio_links WHERE client = 'EXT_CLIENT' ORDER BY 1`),
      chain.query(`SELECT record_id, account_number, portfolio_reference FROM transaction_links WHERE client = 'EXT_CLIENT' ORDER BY 1`),
    ]);

  beforeAll(async () => {
    chain = await startChain();
    relate = createHandler({ ...chain.deps, quality: chain.quality });
    await chain.load('EXT_CLIENT', SAMPLE_DATE, sampleRows());
    await chain.persist('EXT_CLIENT', SAMPLE_DATE);
  });
  afterAll(() => chain?.stop());

  it('links the sample batch, finds no orphans, and hands the batch to the registered transformers', async () => {
    expect(await chain.passes('services/relationship', 'EXT_CLIENT', SAMPLE_DATE)).toBe(true);
    expect(await chain.invoke(relate, 'EXT_CLIENT', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });

    expect(await links()).toEqual([
      [
        { portfolio_reference: FRITZ.portfolio, client_reference: FRITZ.client, account_number: FRITZ.account },
        { portfolio_reference: FRIDA.portfolio, client_reference: FRIDA.client, account_number: FRIDA.account },
      ],
      [
        { record_id: 1, account_number: FRIDA.account, portfolio_reference: FRIDA.portfolio },
        { record_id: 2, account_number: FRITZ.account, portfolio_reference: FRITZ.portfolio },
      ],
    ]);
    const batch = await chain.batch('EXT_CLIENT', SAMPLE_DATE);
    expect(batch).toMatchObject({ stage: 'RELATED', generation: 1, relation_established: true, required_transformers: ['deposit', 'tax', 'transaction'], data_quality: NO_ISSUES });
    expect(batch.transformers.relationship).toMatchObject({ status: 'DONE', generation: 1, summary: { portfolios_linked: 2, transactions_linked: 2 } });
    // The next step's filter now matches, this one's no longer does.
    expect(await chain.passes('services/relationship', 'EXT_CLIENT', SAMPLE_DATE)).toBe(false);
    expect(await chain.passes('services/deposit', 'EXT_CLIENT', SAMPLE_DATE)).toBe(true);
  });

  it('skips a replayed record: the batch is already related', async () => {
    const before = await chain.batch('EXT_CLIENT', SAMPLE_DATE);
    const replay = await chain.event('EXT_CLIENT', SAMPLE_DATE, { stage: { S: 'PERSISTED' }, relation_established: { BOOL: false } });
    expect(await relate(replay, context)).toEqual({ batchItemFailures: [] });
    expect(await chain.batch('EXT_CLIENT', SAMPLE_DATE)).toEqual(before);
  });

  it('gives identical tables when a re-upload starts generation 2', async () => {
    const before = await links();
    expect((await chain.persist('EXT_CLIENT', SAMPLE_DATE, ['accounts'])).stage).toBe('PERSISTED');
    await chain.invoke(relate, 'EXT_CLIENT', SAMPLE_DATE);
    expect(await links()).toEqual(before);
    expect(await chain.batch('EXT_CLIENT', SAMPLE_DATE)).toMatchObject({ stage: 'RELATED', generation: 2, relation_established: true });
  });

  it('lists and counts orphans and repeated keys, and links only what is whole', async () => {
    const rows: Rows = {
      accounts: [account('1', 'A1'), account('2', 'A2'), account('3', 'A1')],
      clients: [person('1', uuid(1)), person('2', uuid(2))],
      portfolios: [portfolio('1', uuid(11), 'A1', uuid(1)), portfolio('2', uuid(12), 'A9', uuid(1)), portfolio('3', uuid(13), 'A1', uuid(9))],
      transactions: [transaction('1', 'A1', '10.00'), transaction('2', 'A7', '20.00')],
    };
    await chain.load('ORPHANS', SAMPLE_DATE, rows);
    await chain.persist('ORPHANS', SAMPLE_DATE);
    expect(await chain.invoke(relate, 'ORPHANS', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });

    expect((await chain.batch('ORPHANS', SAMPLE_DATE)).data_quality).toEqual({
      ...NO_ISSUES,
      portfolio_without_client: 1,
      portfolio_without_account: 1,
      transaction_without_account: 1,
      account_without_portfolio: 1,
      client_without_portfolio: 1,
      duplicate_account_number: 1,
    });
    expect(await chain.query(`SELECT kind, record_id, reference FROM data_quality_issues WHERE client = 'ORPHANS' ORDER BY kind, record_id`)).toEqual([
      { kind: 'account_without_portfolio', record_id: 2, reference: 'A2' },
      { kind: 'client_without_portfolio', record_id: 2, reference: uuid(2) },
      { kind: 'duplicate_account_number', record_id: 3, reference: 'A1' },
      { kind: 'portfolio_without_account', record_id: 2, reference: 'A9' },
      { kind: 'portfolio_without_client', record_id: 3, reference: uuid(9) },
      { kind: 'transaction_without_account', record_id: 2, reference: 'A7' },
    ]);
    expect(await chain.query(`SELECT portfolio_reference FROM portfolio_links WHERE client = 'ORPHANS'`)).toEqual([{ portfolio_reference: uuid(11) }]);
    expect(await chain.query(`SELECT record_id, portfolio_reference FROM transaction_links WHERE client = 'ORPHANS'`)).toEqual([{ record_id: 1, portfolio_reference: uuid(11) }]);
  });

  it('fails the batch those orphans break the deployed rules of, names the rules, and stays failed on a replay', async () => {
    const failed = await chain.batch('ORPHANS', SAMPLE_DATE);
    expect(failed).toMatchObject({ stage: 'FAILED', relation_established: false, quality: { outcome: 'FAIL' } });
    expect(failed.quality!.rules.filter((r) => r.outcome === 'FAIL').map((r) => [r.rule, r.count, r.total])).toEqual([
      ['portfolio_without_client', 1, 3],
      ['portfolio_without_account', 1, 3],
      ['transaction_without_account', 1, 2],
    ]);
    expect(failed.quality!.rules.filter((r) => r.outcome === 'WARN').map((r) => r.rule)).toEqual(['account_without_portfolio', 'client_without_portfolio', 'duplicate_account_number']);
    expect((failed as typeof failed & { failure?: { reason: string } }).failure?.reason).toBe(
      'data-quality rules failed: portfolio_without_client 1 of 3 rows (33.33%, threshold 0.00%); portfolio_without_account 1 of 3 rows (33.33%, threshold 0.00%); transaction_without_account 1 of 2 rows (50.00%, threshold 1.00%)',
    );
    for (const next of ['services/deposit', 'services/catapult']) expect(await chain.passes(next, 'ORPHANS', SAMPLE_DATE)).toBe(false);
    const replay = await chain.event('ORPHANS', SAMPLE_DATE, { stage: { S: 'PERSISTED' } });
    expect(await relate(replay, context)).toEqual({ batchItemFailures: [] });
    expect(await chain.batch('ORPHANS', SAMPLE_DATE)).toEqual(failed);
  });

  it('relates a corrected generation of a failed batch, its quality evaluated afresh', async () => {
    await chain.load('ORPHANS', SAMPLE_DATE, sampleRows());
    expect((await chain.persist('ORPHANS', SAMPLE_DATE, ['transactions'])).stage).toBe('PERSISTED');
    expect(await chain.invoke(relate, 'ORPHANS', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    expect(await chain.batch('ORPHANS', SAMPLE_DATE)).toMatchObject({ stage: 'RELATED', generation: 2, data_quality: NO_ISSUES, quality: { outcome: 'PASS' } });
  });

  it("warns on the rows a lenient load rejected, counted against the file's rows", async () => {
    await chain.load('LENIENT_FILES', SAMPLE_DATE, sampleRows());
    await chain.persist('LENIENT_FILES', SAMPLE_DATE, ['accounts', 'clients', 'portfolios']);
    const file = { status: 'PERSISTED' as const, key: `incoming/LENIENT_FILES/transactions_${SAMPLE_DATE}.csv`, etag: 'lenient', bytes: 100, errors: [], at: new Date().toISOString() };
    await chain.metastore.recordFile('LENIENT_FILES', SAMPLE_DATE, 'transactions', { ...file, rows: 2, rejected_rows: 3 });
    expect(await chain.invoke(relate, 'LENIENT_FILES', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    const batch = await chain.batch('LENIENT_FILES', SAMPLE_DATE);
    expect(batch).toMatchObject({ stage: 'RELATED', quality: { outcome: 'WARN' } });
    expect(batch.quality!.rules.filter((r) => r.outcome !== 'PASS')).toEqual([{ rule: 'transactions_rejected_rows', severity: 'warning', count: 3, total: 5, ratio: 0.6, outcome: 'WARN' }]);
  });

  it('records the override that let a failing batch through', async () => {
    const rows: Rows = { ...sampleRows(), transactions: [transaction('1', FRIDA.account, '10.00'), transaction('2', 'UNKNOWN', '20.00')] };
    const override = { name: 'CHG-7 accounts arrive tomorrow', rules: { transaction_without_account: { threshold: 0.5 } } };
    const lenient = createHandler({ ...chain.deps, quality: { ...chain.quality, overrides: { LET_THROUGH: override } } });
    await chain.load('LET_THROUGH', SAMPLE_DATE, rows);
    await chain.persist('LET_THROUGH', SAMPLE_DATE);
    expect(await chain.invoke(lenient, 'LET_THROUGH', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    const batch = await chain.batch('LET_THROUGH', SAMPLE_DATE);
    expect(batch).toMatchObject({ stage: 'RELATED', quality: { outcome: 'OVERRIDDEN', override: override.name } });
    expect(batch.quality!.rules.find((r) => r.rule === 'transaction_without_account')).toEqual({
      rule: 'transaction_without_account',
      severity: 'error',
      count: 1,
      total: 2,
      ratio: 0.5,
      threshold: 0.5,
      outcome: 'OVERRIDDEN',
    });
  });
});
