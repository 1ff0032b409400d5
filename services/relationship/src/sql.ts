/** Links and orphans of one batch ($1 client, $2 batch date), replaced as a whole on every run. */
export const ddl = [
  `CREATE TABLE IF NOT EXISTS portfolio_links (client text NOT NULL, batch_date date NOT NULL, portfolio_reference uuid NOT NULL,
     client_reference uuid NOT NULL, account_number text NOT NULL, PRIMARY KEY (client, batch_date, portfolio_reference))`,
  `CREATE TABLE IF NOT EXISTS transaction_links (client text NOT NULL, batch_date date NOT NULL, record_id integer NOT NULL,
     account_number text NOT NULL, portfolio_reference uuid, PRIMARY KEY (client, batch_date, record_id))`,
  `CREATE TABLE IF NOT EXISTS data_quality_issues (client text NOT NULL, batch_date date NOT NULL, kind text NOT NULL,
     record_type text NOT NULL, record_id integer NOT NULL, reference text NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS data_quality_issues_batch ON data_quality_issues (client, batch_date)',
];

const slice = (t: string) => `${t}.client = $1 AND ${t}.batch_date = $2`;
const sameBatch = (a: string, b: string) => `${a}.client = ${b}.client AND ${a}.batch_date = ${b}.batch_date`;

export const statements = [
  'DELETE FROM portfolio_links WHERE client = $1 AND batch_date = $2',
  // A portfolio is linked when both its client and its account are in the batch.
  `INSERT INTO portfolio_links
     SELECT DISTINCT ON (p.portfolio_reference) p.client, p.batch_date, p.portfolio_reference, p.client_reference, p.account_number
     FROM portfolios p
     JOIN clients c ON ${sameBatch('c', 'p')} AND c.client_reference = p.client_reference
     JOIN accounts a ON ${sameBatch('a', 'p')} AND a.account_number = p.account_number
     WHERE ${slice('p')}
     ORDER BY p.portfolio_reference, p.record_id`,
  'DELETE FROM transaction_links WHERE client = $1 AND batch_date = $2',
  `INSERT INTO transaction_links
     SELECT t.client, t.batch_date, t.record_id, t.account_number, pl.portfolio_reference
     FROM transactions t
     JOIN accounts a ON ${sameBatch('a', 't')} AND a.account_number = t.account_number
     LEFT JOIN LATERAL (SELECT portfolio_reference FROM portfolio_links l WHERE ${sameBatch('l', 't')} AND l.account_number = t.account_number
                        ORDER BY portfolio_reference LIMIT 1) pl ON true
     WHERE ${slice('t')}`,
  'DELETE FROM data_quality_issues WHERE client = $1 AND batch_date = $2',
  `INSERT INTO data_quality_issues
     SELECT p.client, p.batch_date, 'portfolio_without_client', 'portfolio', p.record_id, p.client_reference::text FROM portfolios p
       WHERE ${slice('p')} AND NOT EXISTS (SELECT 1 FROM clients c WHERE ${sameBatch('c', 'p')} AND c.client_reference = p.client_reference)
     UNION ALL
     SELECT p.client, p.batch_date, 'portfolio_without_account', 'portfolio', p.record_id, p.account_number FROM portfolios p
       WHERE ${slice('p')} AND NOT EXISTS (SELECT 1 FROM accounts a WHERE ${sameBatch('a', 'p')} AND a.account_number = p.account_number)
     UNION ALL
     SELECT t.client, t.batch_date, 'transaction_without_account', 'transaction', t.record_id, t.account_number FROM transactions t
       WHERE ${slice('t')} AND NOT EXISTS (SELECT 1 FROM accounts a WHERE ${sameBatch('a', 't')} AND a.account_number = t.account_number)
     UNION ALL
     SELECT a.client, a.batch_date, 'account_without_portfolio', 'account', a.record_id, a.account_number FROM accounts a
       WHERE ${slice('a')} AND NOT EXISTS (SELECT 1 FROM portfolios p WHERE ${sameBatch('p', 'a')} AND p.account_number = a.account_number)
     UNION ALL
     SELECT c.client, c.batch_date, 'client_without_portfolio', 'client', c.record_id, c.client_reference::text FROM clients c
       WHERE ${slice('c')} AND NOT EXISTS (SELECT 1 FROM portfolios p WHERE ${sameBatch('p', 'c')} AND p.client_reference = c.client_reference)`,
];

export const dataQualityCounts = `SELECT kind, count(*)::int AS n FROM data_quality_issues WHERE client = $1 AND batch_date = $2 GROUP BY kind`;
