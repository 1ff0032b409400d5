import { transformerHandler } from '@dataharvest/shared/transformer';

/** Per account and per portfolio: transaction count, net amount and totals by keyword. */
export const handler = transformerHandler({
  name: 'transaction',
  ddl: [
    `CREATE TABLE IF NOT EXISTS account_transaction_totals (client text NOT NULL, batch_date date NOT NULL, account_number text NOT NULL,
       transaction_count integer NOT NULL, net_amount numeric(17,2) NOT NULL, totals_by_keyword jsonb NOT NULL,
       PRIMARY KEY (client, batch_date, account_number))`,
    `CREATE TABLE IF NOT EXISTS portfolio_transaction_totals (client text NOT NULL, batch_date date NOT NULL, portfolio_reference uuid NOT NULL,
       transaction_count integer NOT NULL, net_amount numeric(17,2) NOT NULL, totals_by_keyword jsonb NOT NULL,
       PRIMARY KEY (client, batch_date, portfolio_reference))`,
  ],
  statements: [
    'DELETE FROM account_transaction_totals WHERE client = $1 AND batch_date = $2',
    // Totals by keyword are kept as decimal strings: JSON numbers would lose the two places.
    `INSERT INTO account_transaction_totals
       SELECT a.client, a.batch_date, a.account_number, COALESCE(SUM(k.n), 0), COALESCE(SUM(k.total), 0),
              COALESCE(jsonb_object_agg(k.keyword, k.total::numeric(17,2)::text) FILTER (WHERE k.keyword IS NOT NULL), '{}')
       FROM (SELECT DISTINCT client, batch_date, account_number FROM accounts WHERE client = $1 AND batch_date = $2) a
       LEFT JOIN (SELECT account_number, keyword, count(*) AS n, SUM(amount) AS total FROM transactions
                  WHERE client = $1 AND batch_date = $2 GROUP BY account_number, keyword) k ON k.account_number = a.account_number
       GROUP BY a.client, a.batch_date, a.account_number`,
    'DELETE FROM portfolio_transaction_totals WHERE client = $1 AND batch_date = $2',
    `INSERT INTO portfolio_transaction_totals
       SELECT l.client, l.batch_date, l.portfolio_reference, t.transaction_count, t.net_amount, t.totals_by_keyword
       FROM portfolio_links l
       JOIN account_transaction_totals t ON t.client = l.client AND t.batch_date = l.batch_date AND t.account_number = l.account_number
       WHERE l.client = $1 AND l.batch_date = $2`,
  ],
});
