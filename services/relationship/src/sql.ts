/**
 * The relations of one batch ($1 client, $2 batch date), replaced as a whole on every run. Transformers read
 * `portfolio_links` (a portfolio whose client and account are both in the batch) and `transaction_links` (a
 * transaction on a known account, with the portfolio holding that account); everything that could not be linked is
 * listed in `data_quality_issues`. Where a business key repeats within a file, the lowest record_id wins.
 * A transaction's link follows from its account number alone, so `transaction_links` is a view over the batch's
 * transactions and `portfolio_links`: writing it out would copy every transaction of the batch once more.
 */
const slice = (t: string) => `${t}.client = $1 AND ${t}.batch_date = $2`;
const sameBatch = (a: string, b: string) => `${a}.client = ${b}.client AND ${a}.batch_date = ${b}.batch_date`;
const missing = (table: string, alias: string, key: string, from: string) => `NOT EXISTS (SELECT 1 FROM ${table} ${alias} WHERE ${sameBatch(alias, from)} AND ${alias}.${key} = ${from}.${key})`;
/** The rows of a table whose business key already appeared with a lower record_id. */
const repeats = (table: string, key: string) =>
  `SELECT client, batch_date, 'duplicate_${key}', record_id, ${key}::text FROM (
     SELECT *, row_number() OVER (PARTITION BY ${key} ORDER BY record_id) AS n FROM ${table} WHERE client = $1 AND batch_date = $2) d
   WHERE n > 1`;

export const ddl = [
  `CREATE TABLE IF NOT EXISTS portfolio_links (client text NOT NULL, batch_date date NOT NULL, portfolio_reference uuid NOT NULL,
     client_reference uuid NOT NULL, account_number text NOT NULL, PRIMARY KEY (client, batch_date, portfolio_reference))`,
  // Read it with client = … AND batch_date = …: both reach every table inside, so each scans only the batch's slice.
  `CREATE OR REPLACE VIEW transaction_links AS
     SELECT t.client, t.batch_date, t.record_id, t.account_number, holder.portfolio_reference
     FROM transactions t
     LEFT JOIN (SELECT DISTINCT ON (client, batch_date, account_number) client, batch_date, account_number, portfolio_reference
                FROM portfolio_links ORDER BY client, batch_date, account_number, portfolio_reference) holder
       ON ${sameBatch('holder', 't')} AND holder.account_number = t.account_number
     WHERE EXISTS (SELECT 1 FROM accounts a WHERE ${sameBatch('a', 't')} AND a.account_number = t.account_number)`,
  `CREATE TABLE IF NOT EXISTS data_quality_issues (client text NOT NULL, batch_date date NOT NULL, kind text NOT NULL,
     record_id integer NOT NULL, reference text NOT NULL, PRIMARY KEY (client, batch_date, kind, record_id))`,
];

/** Every kind of issue, counted in the metastore even when zero, so "no orphans" is stated rather than implied. */
export const ISSUE_KINDS = [
  'portfolio_without_client',
  'portfolio_without_account',
  'transaction_without_account',
  'account_without_portfolio',
  'client_without_portfolio',
  'duplicate_portfolio_reference',
  'duplicate_client_reference',
  'duplicate_account_number',
] as const;
export type IssueKind = (typeof ISSUE_KINDS)[number];

export const statements = [
  'DELETE FROM portfolio_links WHERE client = $1 AND batch_date = $2',
  `INSERT INTO portfolio_links
     SELECT DISTINCT ON (p.portfolio_reference) p.client, p.batch_date, p.portfolio_reference, p.client_reference, p.account_number
     FROM portfolios p
     WHERE ${slice('p')}
       AND EXISTS (SELECT 1 FROM clients c WHERE ${sameBatch('c', 'p')} AND c.client_reference = p.client_reference)
       AND EXISTS (SELECT 1 FROM accounts a WHERE ${sameBatch('a', 'p')} AND a.account_number = p.account_number)
     ORDER BY p.portfolio_reference, p.record_id`,
  'DELETE FROM data_quality_issues WHERE client = $1 AND batch_date = $2',
  `INSERT INTO data_quality_issues
     SELECT p.client, p.batch_date, 'portfolio_without_client', p.record_id, p.client_reference::text FROM portfolios p
       WHERE ${slice('p')} AND ${missing('clients', 'c', 'client_reference', 'p')}
     UNION ALL
     SELECT p.client, p.batch_date, 'portfolio_without_account', p.record_id, p.account_number FROM portfolios p
       WHERE ${slice('p')} AND ${missing('accounts', 'a', 'account_number', 'p')}
     UNION ALL
     SELECT t.client, t.batch_date, 'transaction_without_account', t.record_id, t.account_number FROM transactions t
       WHERE ${slice('t')} AND ${missing('accounts', 'a', 'account_number', 't')}
     UNION ALL
     SELECT a.client, a.batch_date, 'account_without_portfolio', a.record_id, a.account_number FROM accounts a
       WHERE ${slice('a')} AND ${missing('portfolios', 'p', 'account_number', 'a')}
     UNION ALL
     SELECT c.client, c.batch_date, 'client_without_portfolio', c.record_id, c.client_reference::text FROM clients c
       WHERE ${slice('c')} AND ${missing('portfolios', 'p', 'client_reference', 'c')}
     UNION ALL ${repeats('portfolios', 'portfolio_reference')}
     UNION ALL ${repeats('clients', 'client_reference')}
     UNION ALL ${repeats('accounts', 'account_number')}`,
];

/** Issues per kind ($3: the kinds), zero included. */
export const issueCounts = `
  SELECT k.kind, (SELECT count(*) FROM data_quality_issues i WHERE i.client = $1 AND i.batch_date = $2 AND i.kind = k.kind)::int AS n
  FROM unnest($3::text[]) AS k(kind)`;

/** How much was linked: the relationship step's summary. Every transaction is linked but those without an account. */
export const linkCounts = `
  SELECT (SELECT count(*) FROM portfolio_links WHERE client = $1 AND batch_date = $2)::int AS portfolios_linked,
         ((SELECT count(*) FROM transactions WHERE client = $1 AND batch_date = $2)
          - (SELECT count(*) FROM data_quality_issues WHERE client = $1 AND batch_date = $2 AND kind = 'transaction_without_account'))::int
           AS transactions_linked`;
