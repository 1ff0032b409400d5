import { type TransformerDefinition, transformerHandler } from '@dataharvest/shared/transformer';

/**
 * DEPOSIT transactions per linked portfolio and per client, for the batch and as a running total: this batch plus
 * every earlier batch's total for the same portfolio or client. Summing earlier batch totals (rather than chaining the
 * previous running total) keeps a re-run identical even after an earlier batch was corrected; when this batch's totals
 * change, the toolkit runs the later batches again (`laterBatchesBuildOn`).
 * A client's deposits are counted once per account, even when two of its portfolios share one.
 */
const deposits = (key: 'portfolio_reference' | 'client_reference', table: string, holders: string) => `
  WITH holders AS (${holders}),
  batch AS (
    SELECT h.${key}, count(t.record_id)::int AS deposit_count, COALESCE(sum(t.amount), 0) AS deposits_total
    FROM holders h
    LEFT JOIN transactions t ON t.client = $1 AND t.batch_date = $2 AND t.account_number = h.account_number AND t.keyword = 'DEPOSIT'
    GROUP BY h.${key}),
  earlier AS (
    SELECT ${key}, sum(deposits_total) AS total FROM ${table} WHERE client = $1 AND batch_date < $2 GROUP BY ${key})
  INSERT INTO ${table} (client, batch_date, ${key}, deposit_count, deposits_total, running_total)
  SELECT $1, $2::date, b.${key}, b.deposit_count, b.deposits_total, b.deposits_total + COALESCE(e.total, 0)
  FROM batch b LEFT JOIN earlier e USING (${key})`;

/** This batch's totals, which later batches' running totals add up: when they change, the later batches run again. */
const totalsFingerprint = `
  SELECT md5(concat_ws('|',
    (SELECT string_agg(portfolio_reference || '=' || deposits_total, ',' ORDER BY portfolio_reference) FROM portfolio_deposits WHERE client = $1 AND batch_date = $2),
    (SELECT string_agg(client_reference || '=' || deposits_total, ',' ORDER BY client_reference) FROM client_deposits WHERE client = $1 AND batch_date = $2)
  )) AS fingerprint`;

const columns = 'deposit_count integer NOT NULL, deposits_total numeric(17,2) NOT NULL, running_total numeric(17,2) NOT NULL';

export const definition: TransformerDefinition = {
  name: 'deposit',
  ddl: [
    `CREATE TABLE IF NOT EXISTS portfolio_deposits (client text NOT NULL, batch_date date NOT NULL, portfolio_reference uuid NOT NULL,
       ${columns}, PRIMARY KEY (client, batch_date, portfolio_reference))`,
    `CREATE TABLE IF NOT EXISTS client_deposits (client text NOT NULL, batch_date date NOT NULL, client_reference uuid NOT NULL,
       ${columns}, PRIMARY KEY (client, batch_date, client_reference))`,
  ],
  statements: [
    'DELETE FROM portfolio_deposits WHERE client = $1 AND batch_date = $2',
    deposits('portfolio_reference', 'portfolio_deposits', 'SELECT portfolio_reference, account_number FROM portfolio_links WHERE client = $1 AND batch_date = $2'),
    'DELETE FROM client_deposits WHERE client = $1 AND batch_date = $2',
    deposits('client_reference', 'client_deposits', 'SELECT DISTINCT client_reference, account_number FROM portfolio_links WHERE client = $1 AND batch_date = $2'),
  ],
  laterBatchesBuildOn: totalsFingerprint,
  contributes: {
    select: 'SELECT client, batch_date, portfolio_reference, deposits_total, running_total AS deposits_running_total FROM portfolio_deposits',
    fields: { deposits_total: 'money', deposits_running_total: 'money' },
  },
};

export const handler = transformerHandler(definition);
