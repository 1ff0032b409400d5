import { createTransformer } from '@dataharvest/shared/transformer';
import { FRIDA, FRITZ, SAMPLE_DATE, sampleRows, startChain, type Chain, type StreamHandler } from '../../../test/support/chain';
import { definition } from '../src/handler';

describe('tax: allowance, taxes paid and TAX transactions per client', () => {
  let chain: Chain;
  let tax: StreamHandler;
  const taxes = (client: string) =>
    chain.query(
      `SELECT client_reference, tax_free_allowance, taxes_paid, tax_transactions_total, allowance_remaining, tax_mismatch
     FROM client_taxes WHERE client = $1 ORDER BY 1`,
      [client],
    );

  beforeAll(async () => {
    chain = await startChain();
    tax = createTransformer(definition, chain.deps);
  });
  afterAll(() => chain?.stop());

  it('reads the sample batch: Frida keeps her 801.00, Fritz paid 789.56 and the TAX transaction agrees', async () => {
    await chain.related('EXT_CLIENT');
    expect(await chain.invoke(tax, 'EXT_CLIENT', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    expect(await taxes('EXT_CLIENT')).toEqual([
      { client_reference: FRIDA.client, tax_free_allowance: '801.00', taxes_paid: '0.00', tax_transactions_total: '0.00', allowance_remaining: '801.00', tax_mismatch: false },
      { client_reference: FRITZ.client, tax_free_allowance: '0.00', taxes_paid: '789.56', tax_transactions_total: '-789.56', allowance_remaining: '0.00', tax_mismatch: false },
    ]);
  });

  it('skips a replayed record, and gives identical tables when a re-upload runs it again', async () => {
    const before = await taxes('EXT_CLIENT');
    const done = (await chain.batch('EXT_CLIENT', SAMPLE_DATE)).transformers.tax;
    await chain.invoke(tax, 'EXT_CLIENT', SAMPLE_DATE);
    expect((await chain.batch('EXT_CLIENT', SAMPLE_DATE)).transformers.tax).toEqual(done);

    await chain.related('EXT_CLIENT');
    await chain.invoke(tax, 'EXT_CLIENT', SAMPLE_DATE);
    const again = await chain.batch('EXT_CLIENT', SAMPLE_DATE);
    expect(again.generation).toBeGreaterThan(1);
    expect(again.transformers.tax).toMatchObject({ status: 'DONE', generation: again.generation });
    expect(await taxes('EXT_CLIENT')).toEqual(before);
  });

  it('flags a client whose taxes paid and TAX transactions disagree', async () => {
    const rows = sampleRows();
    // Fritz's account reports 789.56 paid, but the TAX transaction on it now says 700.00.
    rows.transactions[1]!.amount = '-700.00';
    await chain.related('MISMATCH', SAMPLE_DATE, rows);
    await chain.invoke(tax, 'MISMATCH', SAMPLE_DATE);
    expect(await taxes('MISMATCH')).toEqual([
      expect.objectContaining({ client_reference: FRIDA.client, tax_mismatch: false }),
      expect.objectContaining({ client_reference: FRITZ.client, taxes_paid: '789.56', tax_transactions_total: '-700.00', tax_mismatch: true }),
    ]);
  });
});
