import type pg from 'pg';
import { ddl as relationshipDdl } from '../../services/relationship/src/sql';
import { definition as deposit } from '../../services/deposit/src/handler';
import { definition as tax } from '../../services/tax/src/handler';
import { definition as transaction } from '../../services/transaction/src/handler';
import { transaction as inTransaction } from '@dataharvest/shared/pg';

/**
 * The second same-run baseline of the transformers bench: one hand-written script that writes every table the chain
 * writes for a batch ($1 client, $2 batch date) in one transaction, into the schema `baseline` (the chain's own DDL,
 * so the tables are the same), as one would without services: the transactions are aggregated once per account and
 * keyword, and deposits, account, portfolio and tax figures are all read from those totals.
 */
export const SCHEMA = 'baseline';

/** The tables both write, with the key that orders them. */
export const TABLES = [
  'portfolio_links',
  'data_quality_issues',
  'portfolio_deposits',
  'client_deposits',
  'transaction_keyword_totals',
  'account_transaction_totals',
  'portfolio_transaction_totals',
  'client_taxes',
] as const;

const tables = [...relationshipDdl, ...deposit.ddl, ...transaction.ddl, ...tax.ddl].filter((s) => s.startsWith('CREATE TABLE'));

const slice = (t: string) => `${t}.client = $1 AND ${t}.batch_date = $2`;
const exists = (table: string, alias: string, key: string, from: string) =>
  `EXISTS (SELECT 1 FROM ${table} ${alias} WHERE ${alias}.client = $1 AND ${alias}.batch_date = $2 AND ${alias}.${key} = ${from}.${key})`;
const missing = (table: string, alias: string, key: string, from: string) => `NOT ${exists(table, alias, key, from)}`;
const repeats = (table: string, key: string) =>
  `SELECT $1, $2::date, 'duplicate_${key}', record_id, ${key}::text FROM (
     SELECT record_id, ${key}, row_number() OVER (PARTITION BY ${key} ORDER BY record_id) AS n FROM ${table} WHERE client = $1 AND batch_date = $2) d
   WHERE n > 1`;
const deposits = (key: string, table: string, holders: string) => `
  INSERT INTO ${SCHEMA}.${table}
  SELECT $1, $2::date, b.${key}, b.deposit_count, b.deposits_total, b.deposits_total + COALESCE(e.total, 0)
  FROM (SELECT h.${key}, COALESCE(sum(k.transaction_count), 0)::int AS deposit_count, COALESCE(sum(k.amount), 0) AS deposits_total
        FROM (${holders}) h
        LEFT JOIN ${SCHEMA}.transaction_keyword_totals k ON ${slice('k')} AND k.account_number = h.account_number AND k.keyword = 'DEPOSIT'
        GROUP BY h.${key}) b
  LEFT JOIN (SELECT ${key}, sum(deposits_total) AS total FROM ${SCHEMA}.${table} WHERE client = $1 AND batch_date < $2 GROUP BY ${key}) e USING (${key})`;

export const SCRIPT = [
  'SET LOCAL enable_nestloop = off',
  "SET LOCAL work_mem = '64MB'",
  ...TABLES.map((t) => `DELETE FROM ${SCHEMA}.${t} WHERE client = $1 AND batch_date = $2`),
  `INSERT INTO ${SCHEMA}.portfolio_links
     SELECT DISTINCT ON (p.portfolio_reference) p.client, p.batch_date, p.portfolio_reference, p.client_reference, p.account_number
     FROM portfolios p
     WHERE ${slice('p')} AND ${exists('clients', 'c', 'client_reference', 'p')} AND ${exists('accounts', 'a', 'account_number', 'p')}
     ORDER BY p.portfolio_reference, p.record_id`,
  `INSERT INTO ${SCHEMA}.data_quality_issues
     SELECT $1, $2::date, 'portfolio_without_client', record_id, client_reference::text FROM portfolios p WHERE ${slice('p')} AND ${missing('clients', 'c', 'client_reference', 'p')}
     UNION ALL SELECT $1, $2::date, 'portfolio_without_account', record_id, account_number FROM portfolios p WHERE ${slice('p')} AND ${missing('accounts', 'a', 'account_number', 'p')}
     UNION ALL SELECT $1, $2::date, 'transaction_without_account', record_id, account_number FROM transactions t WHERE ${slice('t')} AND ${missing('accounts', 'a', 'account_number', 't')}
     UNION ALL SELECT $1, $2::date, 'account_without_portfolio', record_id, account_number FROM accounts a WHERE ${slice('a')} AND ${missing('portfolios', 'p', 'account_number', 'a')}
     UNION ALL SELECT $1, $2::date, 'client_without_portfolio', record_id, client_reference::text FROM clients c WHERE ${slice('c')} AND ${missing('portfolios', 'p', 'client_reference', 'c')}
     UNION ALL ${repeats('portfolios', 'portfolio_reference')}
     UNION ALL ${repeats('clients', 'client_reference')}
     UNION ALL ${repeats('accounts', 'account_number')}`,
  // The one pass over the transactions; everything below reads these ~0.6 totals per account instead.
  `INSERT INTO ${SCHEMA}.transaction_keyword_totals
     SELECT $1, $2::date, t.account_number, t.keyword, count(*), sum(t.amount)
     FROM transactions t
     WHERE ${slice('t')} AND t.account_number IN (SELECT account_number FROM accounts a WHERE ${slice('a')})
     GROUP BY t.account_number, t.keyword ORDER BY t.account_number, t.keyword`,
  `INSERT INTO ${SCHEMA}.account_transaction_totals
     SELECT $1, $2::date, a.account_number, COALESCE(sum(k.transaction_count), 0), COALESCE(sum(k.amount), 0)
     FROM (SELECT DISTINCT account_number FROM accounts a WHERE ${slice('a')}) a
     LEFT JOIN ${SCHEMA}.transaction_keyword_totals k ON ${slice('k')} AND k.account_number = a.account_number
     GROUP BY a.account_number`,
  `INSERT INTO ${SCHEMA}.portfolio_transaction_totals
     SELECT $1, $2::date, l.portfolio_reference, l.account_number, a.transaction_count, a.net_amount
     FROM ${SCHEMA}.portfolio_links l JOIN ${SCHEMA}.account_transaction_totals a ON ${slice('a')} AND a.account_number = l.account_number
     WHERE ${slice('l')}`,
  deposits('portfolio_reference', 'portfolio_deposits', `SELECT portfolio_reference, account_number FROM ${SCHEMA}.portfolio_links l WHERE ${slice('l')}`),
  deposits('client_reference', 'client_deposits', `SELECT DISTINCT client_reference, account_number FROM ${SCHEMA}.portfolio_links l WHERE ${slice('l')}`),
  `INSERT INTO ${SCHEMA}.client_taxes
     SELECT $1, $2::date, c.client_reference, c.tax_free_allowance, COALESCE(p.total, 0), COALESCE(x.total, 0),
            CASE WHEN COALESCE(p.total, 0) > 0 THEN 0 ELSE c.tax_free_allowance END, COALESCE(p.total, 0) <> -COALESCE(x.total, 0)
     FROM (SELECT DISTINCT ON (client_reference) client_reference, tax_free_allowance FROM clients c WHERE ${slice('c')} ORDER BY client_reference, record_id) c
     LEFT JOIN (SELECT o.client_reference, sum(a.taxes_paid) AS total
                FROM (SELECT DISTINCT client_reference, account_number FROM ${SCHEMA}.portfolio_links l WHERE ${slice('l')}) o
                JOIN (SELECT DISTINCT ON (account_number) account_number, taxes_paid FROM accounts a WHERE ${slice('a')} ORDER BY account_number, record_id) a USING (account_number)
                GROUP BY o.client_reference) p USING (client_reference)
     LEFT JOIN (SELECT o.client_reference, sum(k.amount) AS total
                FROM (SELECT DISTINCT client_reference, account_number FROM ${SCHEMA}.portfolio_links l WHERE ${slice('l')}) o
                JOIN ${SCHEMA}.transaction_keyword_totals k ON ${slice('k')} AND k.account_number = o.account_number AND k.keyword = 'TAX'
                GROUP BY o.client_reference) x USING (client_reference)`,
];

/** An empty `baseline` schema holding the chain's tables, as a first run of the chain finds them. */
export async function freshSchema(db: pg.ClientBase): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await inTransaction(db, async () => {
    await db.query(`CREATE SCHEMA ${SCHEMA}`);
    await db.query(`SET LOCAL search_path = ${SCHEMA}`);
    for (const statement of tables) await db.query(statement);
  });
}

/** Runs the script for one batch in one transaction. */
export async function runScript(db: pg.ClientBase, client: string, batchDate: string): Promise<void> {
  await inTransaction(db, async () => {
    for (const sql of SCRIPT) await db.query(sql, sql.includes('$1') ? [client, batchDate] : []);
  });
}

/** Tables whose rows differ between the chain's (public) and the script's schema for the batch, with the counts. */
export async function differences(db: pg.ClientBase, client: string, batchDate: string): Promise<string[]> {
  const differing = [];
  for (const t of TABLES) {
    const rows = (chain: string, script: string) => `SELECT count(*)::int AS n FROM (
      SELECT * FROM ${chain}.${t} WHERE client = $1 AND batch_date = $2 EXCEPT ALL SELECT * FROM ${script}.${t} WHERE client = $1 AND batch_date = $2) d`;
    const count = async (sql: string) => (await db.query<{ n: number }>(sql, [client, batchDate])).rows[0]!.n;
    const onlyChain = await count(rows('public', SCHEMA));
    const onlyScript = await count(rows(SCHEMA, 'public'));
    const total = await count(`SELECT count(*)::int AS n FROM public.${t} WHERE client = $1 AND batch_date = $2`);
    if (onlyChain || onlyScript) differing.push(`${t}: ${onlyChain} rows only in the chain's, ${onlyScript} only in the script's, ${total} in all`);
  }
  return differing;
}
