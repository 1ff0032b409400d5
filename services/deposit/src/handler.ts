import { transformerHandler } from '@dataharvest/shared/transformer';

/** Deposits per portfolio and per client for the batch, with running totals over all batches up to it. */
export const handler = transformerHandler({
  name: 'deposit',
  ddl: [
    `CREATE TABLE IF NOT EXISTS portfolio_deposits (client text NOT NULL, batch_date date NOT NULL, portfolio_reference uuid NOT NULL,
       client_reference uuid NOT NULL, deposits numeric(17,2) NOT NULL, running_total numeric(17,2) NOT NULL,
       PRIMARY KEY (client, batch_date, portfolio_reference))`,
    `CREATE TABLE IF NOT EXISTS client_deposits (client text NOT NULL, batch_date date NOT NULL, client_reference uuid NOT NULL,
       deposits numeric(17,2) NOT NULL, running_total numeric(17,2) NOT NULL, PRIMARY KEY (client, batch_date, client_reference))`,
  ],
  statements: [
    'DELETE FROM portfolio_deposits WHERE client = $1 AND batch_date = $2',
    `INSERT INTO portfolio_deposits
       SELECT l.client, l.batch_date, l.portfolio_reference, l.client_reference, COALESCE(SUM(t.amount) FILTER (WHERE t.keyword = 'DEPOSIT'), 0), 0
       FROM portfolio_links l
       LEFT JOIN transactions t ON t.client = l.client AND t.batch_date = l.batch_date AND t.account_number = l.account_number
       WHERE l.client = $1 AND l.batch_date = $2
       GROUP BY l.client, l.batch_date, l.portfolio_reference, l.client_reference`,
    `UPDATE portfolio_deposits d SET running_total = (SELECT SUM(h.deposits) FROM portfolio_deposits h
       WHERE h.client = d.client AND h.portfolio_reference = d.portfolio_reference AND h.batch_date <= d.batch_date)
     WHERE d.client = $1 AND d.batch_date = $2`,
    'DELETE FROM client_deposits WHERE client = $1 AND batch_date = $2',
    `INSERT INTO client_deposits
       SELECT client, batch_date, client_reference, SUM(deposits), SUM(running_total)
       FROM portfolio_deposits WHERE client = $1 AND batch_date = $2
       GROUP BY client, batch_date, client_reference`,
  ],
});
