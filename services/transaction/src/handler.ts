import { type TransformerDefinition, transformerHandler } from '@dataharvest/shared/transformer';

const slice = 'client = $1 AND batch_date = $2';
const totals = 'transaction_count integer NOT NULL, net_amount numeric(17,2) NOT NULL';

/**
 * Transactions on the batch's known accounts (what `transaction_links` holds; a semi-join on the accounts asks the
 * same without the portfolio lookup): count and amount per account and keyword, then count and net amount per
 * account (every account of the batch, zero when quiet) and per linked portfolio.
 */
export const definition: TransformerDefinition = {
  name: 'transaction',
  ddl: [
    `CREATE TABLE IF NOT EXISTS transaction_keyword_totals (client text NOT NULL, batch_date date NOT NULL, account_number text NOT NULL,
       keyword text NOT NULL, transaction_count integer NOT NULL, amount numeric(17,2) NOT NULL,
       PRIMARY KEY (client, batch_date, account_number, keyword))`,
    `CREATE TABLE IF NOT EXISTS account_transaction_totals (client text NOT NULL, batch_date date NOT NULL, account_number text NOT NULL,
       ${totals}, PRIMARY KEY (client, batch_date, account_number))`,
    `CREATE TABLE IF NOT EXISTS portfolio_transaction_totals (client text NOT NULL, batch_date date NOT NULL, portfolio_reference uuid NOT NULL,
       account_number text NOT NULL, ${totals}, PRIMARY KEY (client, batch_date, portfolio_reference))`,
  ],
  statements: [
    `DELETE FROM transaction_keyword_totals WHERE ${slice}`,
    `INSERT INTO transaction_keyword_totals
       SELECT $1, $2::date, t.account_number, t.keyword, count(*), sum(t.amount)
       FROM transactions t
       WHERE t.client = $1 AND t.batch_date = $2
         AND EXISTS (SELECT 1 FROM accounts a WHERE a.client = $1 AND a.batch_date = $2 AND a.account_number = t.account_number)
       GROUP BY t.account_number, t.keyword
       ORDER BY t.account_number, t.keyword`, // in key order: the primary key grows by appending, a third faster
    `DELETE FROM account_transaction_totals WHERE ${slice}`,
    `INSERT INTO account_transaction_totals
       SELECT $1, $2::date, a.account_number, COALESCE(sum(k.transaction_count), 0), COALESCE(sum(k.amount), 0)
       FROM (SELECT DISTINCT account_number FROM accounts WHERE ${slice}) a
       LEFT JOIN transaction_keyword_totals k ON k.client = $1 AND k.batch_date = $2 AND k.account_number = a.account_number
       GROUP BY a.account_number`,
    `DELETE FROM portfolio_transaction_totals WHERE ${slice}`,
    `INSERT INTO portfolio_transaction_totals
       SELECT $1, $2::date, l.portfolio_reference, l.account_number, a.transaction_count, a.net_amount
       FROM portfolio_links l JOIN account_transaction_totals a ON a.client = $1 AND a.batch_date = $2 AND a.account_number = l.account_number
       WHERE l.client = $1 AND l.batch_date = $2`,
  ],
  // Per portfolio, its account's totals; the keyword totals as one object (empty for a quiet account).
  contributes: {
    select: `SELECT p.client, p.batch_date, p.portfolio_reference, p.transaction_count, p.net_amount,
               COALESCE((SELECT jsonb_object_agg(k.keyword, k.amount::numeric(17,2)::text) FROM transaction_keyword_totals k
                         WHERE k.client = p.client AND k.batch_date = p.batch_date AND k.account_number = p.account_number), '{}') AS totals_by_keyword
             FROM portfolio_transaction_totals p`,
    fields: { transaction_count: 'integer', net_amount: 'money', totals_by_keyword: 'money-by-key' },
  },
};

export const handler = transformerHandler(definition);
