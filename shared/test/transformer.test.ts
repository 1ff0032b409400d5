import type { KinesisStreamEvent } from 'aws-lambda';
import { logger } from '../src/logger';
import { createTransformer } from '../src/transformer';
import { context, startChain, type Chain } from '../../test/support/chain';

/**
 * A transformer as small as the toolkit allows: one table, one statement; for client BOOM its SQL raises an error
 * that is not about the data (SQLSTATE P0001, as a lost connection would be), so the record is retried.
 */
const definition = {
  name: 'probe',
  ddl: [
    'CREATE TABLE IF NOT EXISTS probe_results (client text NOT NULL, batch_date date NOT NULL, PRIMARY KEY (client, batch_date))',
    `CREATE OR REPLACE FUNCTION probe_check(c text) RETURNS boolean LANGUAGE plpgsql AS $$
       BEGIN IF c = 'BOOM' THEN RAISE EXCEPTION 'probe failure for %', c; END IF; RETURN true; END $$`,
  ],
  statements: ['DELETE FROM probe_results WHERE client = $1 AND batch_date = $2', 'INSERT INTO probe_results SELECT $1, $2::date WHERE probe_check($1)'],
};

describe('createTransformer: one record at a time, partial batch failures in stream order', () => {
  let chain: Chain;
  let handler: (event: KinesisStreamEvent) => Promise<unknown>;
  const relatedEvent = async (client: string) => {
    const batch = await chain.persist(client, '20200130');
    await chain.metastore.establishRelations(batch, { status: 'DONE', generation: batch.generation, at: new Date().toISOString() }, {});
    return chain.event(client, '20200130');
  };
  const records = (...events: KinesisStreamEvent[]) => ({ Records: events.flatMap((e) => e.Records) });
  const sequence = (e: KinesisStreamEvent) => e.Records[0]!.kinesis.sequenceNumber;

  beforeAll(async () => {
    chain = await startChain();
    logger.setLogLevel('SILENT'); // the failing record's error log is expected
    const wrapped = createTransformer(definition, chain.deps);
    handler = (event) => wrapped(event, context);
  });
  afterAll(() => chain?.stop());

  it("processes other batches' records past a failure, and reports the failed one and every one after it", async () => {
    const [first, boom, last] = [await relatedEvent('FIRST'), await relatedEvent('BOOM'), await relatedEvent('LAST')];
    expect(await handler(records(first, boom, last))).toEqual({ batchItemFailures: [{ itemIdentifier: sequence(boom) }, { itemIdentifier: sequence(last) }] });
    // A poison record holds up only its own batch: LAST, another batch, ran all the same.
    expect(await chain.query('SELECT client FROM probe_results ORDER BY 1')).toEqual([{ client: 'FIRST' }, { client: 'LAST' }]);
    expect((await chain.batch('FIRST', '20200130')).transformers.probe).toMatchObject({ status: 'DONE', summary: { rows_written: 1 } });
    expect((await chain.batch('BOOM', '20200130')).transformers.probe).toBeUndefined();

    // Lambda retries from the failed record (checkpoints only move past a prefix): LAST again, which changes nothing.
    expect(await handler(records(last))).toEqual({ batchItemFailures: [] });
    expect(await chain.query('SELECT client FROM probe_results ORDER BY 1')).toEqual([{ client: 'FIRST' }, { client: 'LAST' }]);
  });

  it('ignores items that are not batches (registry entries share the table)', async () => {
    await relatedEvent('OTHER');
    const event = await chain.event('OTHER', '20200130', { pk: { S: 'REGISTRY' }, sk: { S: 'TRANSFORMER#probe' }, name: { S: 'probe' }, required: { BOOL: true } });
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect((await chain.batch('OTHER', '20200130')).transformers.probe).toBeUndefined();
  });
});
