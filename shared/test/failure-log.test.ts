import { createTransformer, type TransformerDefinition } from '@dataharvest/shared/transformer';
import { definition as deposit } from '../../services/deposit/src/handler';
import { context, FRIDA, SAMPLE_DATE, sampleRows, startChain, type Chain } from '../../test/support/chain';

/** A transformer whose SQL fails on every batch with an error that is not the data's (a missing table): retried. */
const broken: TransformerDefinition = { name: 'broken', ddl: [], statements: ['SELECT * FROM no_such_table'] };

/** Fails (not on the data: an unknown setting) for client POISON only; STABLE, so evaluated per run, not at plan time. */
const picky: TransformerDefinition = {
  name: 'picky',
  ddl: [],
  statements: ["SELECT CASE WHEN $1::text = 'POISON' THEN current_setting('dataharvest.no_such_setting') END, $2::date"],
};

describe('failure items and a FAILED transformer: what the metastore keeps when a step cannot go on', () => {
  let chain: Chain;
  beforeAll(async () => {
    chain = await startChain();
  });
  afterAll(() => chain?.stop());

  it('records the batch and reason of each failed attempt, and that the record gave up after the last retry', async () => {
    await chain.related('RETRY_CO');
    const handler = createTransformer(broken, chain.deps);
    // One record, delivered again as Lambda retries it: the first attempt and three retries.
    const event = await chain.event('RETRY_CO', SAMPLE_DATE);
    const record = event.Records[0]!;
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      expect(await handler(event, context)).toEqual({ batchItemFailures: [{ itemIdentifier: record.kinesis.sequenceNumber }] });
      const [failure] = await chain.metastore.listFailures('RETRY_CO', SAMPLE_DATE);
      expect(failure).toMatchObject({
        pk: 'CLIENT#RETRY_CO',
        sk: `FAILURE#${SAMPLE_DATE}#broken`,
        function: 'broken',
        generation: 1,
        attempts: attempt,
        gave_up: attempt === 4,
        shard_id: 'shardId-000000000000',
        sequence_numbers: [record.kinesis.sequenceNumber],
        // The relation's name is masked like any quoted value (safeError): only its length is left.
        reason: expect.stringMatching(/relation \(a value of 13 characters\) does not exist/),
      });
    }
    // Every client's failures, through the index, without a scan.
    expect((await chain.metastore.listFailures()).map((f) => `${f.client}/${f.function}`)).toContain('RETRY_CO/broken');
    // A failure item is no batch item: the batch is as the step left it, and listing the client's batches ignores it.
    expect((await chain.metastore.listClient('RETRY_CO')).batches.map((b) => b.stage)).toEqual(['RELATED']);
    await chain.metastore.clearFailure({ client: 'RETRY_CO', batch_date: SAMPLE_DATE, function: 'broken' });
    expect(await chain.metastore.listFailures('RETRY_CO')).toEqual([]);
  });

  it("a poison record holds up only its own batch: the other batches' records after it are handled", async () => {
    await chain.related('POISON');
    await chain.related('GOOD_CO');
    const handler = createTransformer(picky, chain.deps);
    // One shard's batch: the poison batch's image, a later image of it, then another client's.
    const [poison, again, good] = await Promise.all(['POISON', 'POISON', 'GOOD_CO'].map((c) => chain.event(c, SAMPLE_DATE)));
    const event = { Records: [poison!.Records[0]!, again!.Records[0]!, good!.Records[0]!] };
    const sequence = event.Records.map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber }));
    // Reported from the poison record on, so Lambda retries from there; the good batch is done all the same.
    expect(await handler(event, context)).toEqual({ batchItemFailures: sequence });
    expect((await chain.batch('GOOD_CO', SAMPLE_DATE)).transformers.picky).toMatchObject({ status: 'DONE', generation: 1 });
    expect((await chain.batch('POISON', SAMPLE_DATE)).transformers.picky).toBeUndefined();
    // Its later image was not handled before it: one attempt recorded, not two.
    expect(await chain.metastore.listFailures('POISON')).toMatchObject([{ function: 'picky', attempts: 1, sequence_numbers: [poison!.Records[0]!.kinesis.sequenceNumber] }]);
    expect(await chain.metastore.listFailures('GOOD_CO')).toEqual([]);
  });

  it('redrive re-delivers a batch whose step gave up for the same generation', async () => {
    await chain.related('REDRIVE_CO');
    const before = await chain.batch('REDRIVE_CO', SAMPLE_DATE);
    expect(await chain.metastore.redriveBatch('REDRIVE_CO', SAMPLE_DATE, 1)).toBe('re-delivered');
    const after = await chain.batch('REDRIVE_CO', SAMPLE_DATE);
    expect(after).toMatchObject({ stage: 'RELATED', generation: 1, transformers: before.transformers });
    expect(after.updated_at > before.updated_at).toBe(true);
    expect(await chain.metastore.redriveBatch('REDRIVE_CO', SAMPLE_DATE, 0)).toBe('superseded');
    expect(await chain.metastore.redriveBatch('NOBODY', SAMPLE_DATE, 1)).toBe('missing');
  });

  it('a FAILED transformer skips replays of its generation; a new generation (a correction, a redrive) runs it again', async () => {
    const handler = createTransformer(deposit, chain.deps);
    const rows = sampleRows();
    // Two deposits whose sum overflows the money type: the data's failure, not the platform's.
    rows.transactions = [1, 2].map((id) => ({ record_id: String(id), account_number: FRIDA.account, transaction_reference: `big${id}`, amount: '999999999999999.99', keyword: 'DEPOSIT' }));
    await chain.related('OVERFLOW_CO', SAMPLE_DATE, rows);
    // Replayed records of the batch's RELATED image, as a shard holds them behind the one that failed.
    const replays = await Promise.all([1, 2].map(() => chain.event('OVERFLOW_CO', SAMPLE_DATE)));
    expect(await chain.invoke(handler, 'OVERFLOW_CO', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    const failed = await chain.batch('OVERFLOW_CO', SAMPLE_DATE);
    expect(failed).toMatchObject({ stage: 'FAILED', transformers: { deposit: { status: 'FAILED', generation: 1 } } });
    for (const replay of replays) expect(await handler(replay, context)).toEqual({ batchItemFailures: [] });
    // Not run again: its recorded failure is the first one, to the millisecond.
    expect((await chain.batch('OVERFLOW_CO', SAMPLE_DATE)).transformers.deposit).toEqual(failed.transformers.deposit);

    // Redrive of a FAILED batch starts its next generation, as a corrected upload does: the transformer runs again.
    expect(await chain.metastore.redriveBatch('OVERFLOW_CO', SAMPLE_DATE, 1)).toBe('new-generation');
    expect(await chain.batch('OVERFLOW_CO', SAMPLE_DATE)).toMatchObject({ stage: 'PERSISTED', generation: 2, transformers: {} });
    await chain.related('OVERFLOW_CO', SAMPLE_DATE); // the corrected data: a third generation, related again
    expect(await chain.invoke(handler, 'OVERFLOW_CO', SAMPLE_DATE)).toEqual({ batchItemFailures: [] });
    const corrected = await chain.batch('OVERFLOW_CO', SAMPLE_DATE);
    expect(corrected.transformers.deposit).toMatchObject({ status: 'DONE', generation: corrected.generation });
  });
});
