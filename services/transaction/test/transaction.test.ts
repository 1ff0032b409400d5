import { createTransformer } from '@dataharvest/shared/transformer';
import { FRIDA, FRITZ, SAMPLE_DATE, sampleRows, startChain, type Chain, type StreamHandler } from '../../../test/support/chain';
import { definition } from '../src/handler';

describe('transaction: count, net amount and keyword totals per account and portfolio', () => {
  let chain: Chain;
  let transaction: StreamHandler;
  const tables = () =>
    Promise.all([
      chain.query(`SELECT account_number, keyword, transaction_count, amount FROM transaction_keyword_totals WHERE client = 'EXT_CLIENT' ORDER BY 1, 2`),
      chain.query(`SELECT account_number, transaction_count, net_amount FROM account_transaction_totals WHERE client = 'EXT_CLIENT' ORDER BY 1`),
      chain.query(`SELECT portfolio_reference, account_number, transaction_count, net_amount FROM portfolio_transaction_totals WHERE client = 'EXT_CLIENT' ORDER BY 1`),
    ]);

  beforeAll(async () => {
    chain = await startChain();
    transaction = createTransformer(definition, chain.deps);
  });
  afterAll(() => chain?.stop());

  it('totals the sample batch: a DEPOSIT of 5000.00 on 12345678, a TAX of -789.56 on 12345679', async () => {
    await chain.related('EXT_CLIENT');
    expect(await chain.invoke(transaction, 'EXT_CLIENT', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    expect(await tables()).toEqual([
      [
        { account_number: FRIDA.account, keyword: 'DEPOSIT', transaction_count: 1, amount: '5000.00' },
        { account_number: FRITZ.account, keyword: 'TAX', transaction_count: 1, amount: '-789.56' },
      ],
      [
        { account_number: FRIDA.account, transaction_count: 1, net_amount: '5000.00' },
        { account_number: FRITZ.account, transaction_count: 1, net_amount: '-789.56' },
      ],
      [
        { portfolio_reference: FRITZ.portfolio, account_number: FRITZ.account, transaction_count: 1, net_amount: '-789.56' },
        { portfolio_reference: FRIDA.portfolio, account_number: FRIDA.account, transaction_count: 1, net_amount: '5000.00' },
      ],
    ]);
    expect((await chain.batch('EXT_CLIENT', SAMPLE_DATE)).transformers.transaction).toMatchObject({ status: 'DONE', generation: 1 });
  });

  it('keeps an account without transactions in the totals at zero, so its portfolio still gets its figures', async () => {
    const rows = sampleRows();
    rows.transactions = rows.transactions.filter((t) => t.account_number === FRIDA.account);
    await chain.related('QUIET', SAMPLE_DATE, rows);
    expect(await chain.invoke(transaction, 'QUIET', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    expect(await chain.query(`SELECT account_number, transaction_count, net_amount FROM account_transaction_totals WHERE client = 'QUIET' ORDER BY 1`)).toEqual([
      { account_number: FRIDA.account, transaction_count: 1, net_amount: '5000.00' },
      { account_number: FRITZ.account, transaction_count: 0, net_amount: '0.00' },
    ]);
    // What the catapult adds to Fritz's portfolio event.
    expect(await chain.query(`SELECT transaction_count, net_amount, totals_by_keyword FROM transaction_event_fields WHERE client = 'QUIET' AND portfolio_reference = $1`, [FRITZ.portfolio])).toEqual([
      { transaction_count: 0, net_amount: '0.00', totals_by_keyword: {} },
    ]);
  });

  it('skips a replayed record, and gives identical tables when a re-upload runs it again', async () => {
    const before = await tables();
    const done = (await chain.batch('EXT_CLIENT', SAMPLE_DATE)).transformers.transaction;
    await chain.invoke(transaction, 'EXT_CLIENT', SAMPLE_DATE);
    expect((await chain.batch('EXT_CLIENT', SAMPLE_DATE)).transformers.transaction).toEqual(done);

    await chain.related('EXT_CLIENT');
    await chain.invoke(transaction, 'EXT_CLIENT', SAMPLE_DATE);
    const again = await chain.batch('EXT_CLIENT', SAMPLE_DATE);
    expect(again.transformers.transaction).toMatchObject({ status: 'DONE', generation: again.generation });
    expect(again.generation).toBeGreaterThan(1);
    expect(await tables()).toEqual(before);
  });
});
