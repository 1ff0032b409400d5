/**
 * The transformers at scale: 100k portfolios (with their clients and accounts) and 1M transactions, loaded by the
 * persistence loader, then relationship, deposit, transaction and tax run through their real handlers, then the
 * catapult publishes every event to kinesalite. Two same-run baselines: one hand-written aggregate query computing
 * the per-portfolio figures the events carry into a table, and one hand-written script writing every table the four
 * transformers write, in one transaction, into its own schema (same-output.ts), once before the chain and once after;
 * the bench fails unless the script's tables equal the chain's. Prints one JSON line.
 *
 *   npm run bench:transformers -- [--portfolios 100000] [--transactions 1000000]
 */
import { parseArgs } from 'node:util';
import type { FileType } from '@dataharvest/events/batch';
import { generateFile } from '../../local/src/generate/index';
import { createTransformer } from '@dataharvest/shared/transformer';
import { createHandler as createCatapult } from '../../services/catapult/src/handler';
import { definition as deposit } from '../../services/deposit/src/handler';
import { loadSlice } from '@dataharvest/shared/load/slice-loader';
import { createHandler as createRelationship } from '../../services/relationship/src/handler';
import { definition as tax } from '../../services/tax/src/handler';
import { definition as transaction } from '../../services/transaction/src/handler';
import { startChain, type StreamHandler } from '../support/chain';
import { differences, freshSchema, runScript } from './same-output';

const { values } = parseArgs({ options: { portfolios: { type: 'string', default: '100000' }, transactions: { type: 'string', default: '1000000' } } });
const portfolios = Number(values.portfolios);
const transactions = Number(values.transactions);
const CLIENT = 'BENCH';
const DATE = '20200130';
const ISO_DATE = '2020-01-30';

const BASELINE = `
  CREATE TABLE baseline_figures AS
  SELECT p.portfolio_reference, p.client_reference, p.account_number,
         COALESCE(SUM(t.amount) FILTER (WHERE t.keyword = 'DEPOSIT'), 0)::numeric(17,2) AS deposits_total,
         count(t.record_id) AS transaction_count, COALESCE(SUM(t.amount), 0)::numeric(17,2) AS net_amount,
         COALESCE(SUM(t.amount) FILTER (WHERE t.keyword = 'TAX'), 0)::numeric(17,2) AS tax_transactions_total,
         MAX(c.tax_free_allowance) AS tax_free_allowance, MAX(a.taxes_paid) AS taxes_paid
  FROM portfolios p
  JOIN clients c ON c.client = p.client AND c.batch_date = p.batch_date AND c.client_reference = p.client_reference
  JOIN accounts a ON a.client = p.client AND a.batch_date = p.batch_date AND a.account_number = p.account_number
  LEFT JOIN transactions t ON t.client = p.client AND t.batch_date = p.batch_date AND t.account_number = p.account_number
  WHERE p.client = $1 AND p.batch_date = $2
  GROUP BY p.portfolio_reference, p.client_reference, p.account_number`;

const seconds = async (fn: () => Promise<unknown>) => {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
};
const round = (s: number) => Math.round(s * 1000) / 1000;

const chain = await startChain();
try {
  const [eventsStream] = (await chain.createAll('services/catapult', 'AWS::Kinesis::Stream')) as [string];
  const rows: Record<FileType, number> = { accounts: portfolios, clients: portfolios, portfolios, transactions };
  const db = await chain.db.connect();
  try {
    for (const [type, n] of Object.entries(rows) as Array<[FileType, number]>) {
      const result = await loadSlice(db, { type, client: CLIENT, batchDate: DATE }, generateFile({ type, rows: n, seed: 7, client: CLIENT, accounts: portfolios }));
      if (!result.loaded) throw new Error(`generated ${type} did not load: ${JSON.stringify(result.errors.slice(0, 3))}`);
    }
    await db.query('ANALYZE');
  } finally {
    db.release();
  }
  await chain.persist(CLIENT, DATE);

  // The script on an empty schema each time (as the chain finds its tables), outside the timing.
  const script = async () => {
    const db = await chain.db.connect();
    try {
      await freshSchema(db);
      return await seconds(() => runScript(db, CLIENT, ISO_DATE));
    } finally {
      db.release();
    }
  };
  const scriptBefore = await script();

  const handlers: Record<string, StreamHandler> = {
    relationship: createRelationship({ ...chain.deps, quality: chain.quality }),
    deposit: createTransformer(deposit, chain.deps),
    transaction: createTransformer(transaction, chain.deps),
    tax: createTransformer(tax, chain.deps),
    catapult: createCatapult({ ...chain.deps, kinesis: chain.aws.kinesis, eventsStream }),
  };
  const step = async (service: string) =>
    seconds(async () => {
      const outcome = await chain.invoke(handlers[service]!, CLIENT, DATE);
      if (outcome.batchItemFailures.length) throw new Error(`${service} failed`);
    });
  const times: Record<string, number> = {};
  for (const service of ['relationship', 'deposit', 'transaction', 'tax', 'catapult']) times[service] = await step(service);
  const batch = await chain.batch(CLIENT, DATE);
  if (batch.stage !== 'COMPLETE') throw new Error(`the batch ended ${batch.stage}`);

  const scriptAfter = await script();
  const compared = await chain.db.connect();
  try {
    const differing = await differences(compared, CLIENT, ISO_DATE);
    if (differing.length) throw new Error(`the same-output script wrote other tables than the chain: ${differing.join('; ')}`);
  } finally {
    compared.release();
  }
  const sameOutput = (scriptBefore + scriptAfter) / 2;

  const baseline = await seconds(() => chain.db.query(BASELINE, [CLIENT, ISO_DATE]));
  const transformers = times.relationship! + times.deposit! + times.transaction! + times.tax!;
  // What each handler spent in its own transaction (as it records it): the rest is reads and writes of the metastore.
  const inSql = ['relationship', 'deposit', 'transaction', 'tax'].reduce((sum, name) => sum + (batch.transformers[name]?.duration_ms ?? 0) / 1000, 0);
  process.stdout.write(
    `${JSON.stringify({
      portfolios,
      transactions,
      events: batch.events_published,
      relationship_seconds: round(times.relationship!),
      deposit_seconds: round(times.deposit!),
      transaction_seconds: round(times.transaction!),
      tax_seconds: round(times.tax!),
      transformers_seconds: round(transformers),
      catapult_seconds: round(times.catapult!),
      baseline_seconds: round(baseline),
      ratio: round(baseline / transformers),
      transformers_recorded_seconds: round(inSql),
      same_output_seconds: [round(scriptBefore), round(scriptAfter)],
      transformers_per_same_output: round(transformers / sameOutput),
    })}\n`,
  );
} finally {
  await chain.stop();
}
