import { type TransformerDefinition, transformerHandler } from '@dataharvest/shared/transformer';

const slice = 'client = $1 AND batch_date = $2';

/**
 * Per client of the batch: the tax-free allowance, taxes paid on the accounts of the client's linked portfolios, the
 * total of TAX transactions on those accounts (negative: money out), what is left of the allowance, and a mismatch
 * flag where taxes paid and -(TAX total) disagree. Banks withhold tax only once the allowance is used up, so a client
 * who paid tax has none left; one who paid none keeps the whole allowance as far as these files can tell.
 * Each account counts once per client, and a repeated client or account number counts by its first record.
 */
export const definition: TransformerDefinition = {
  name: 'tax',
  ddl: [
    `CREATE TABLE IF NOT EXISTS client_taxes (client text NOT NULL, batch_date date NOT NULL, client_reference uuid NOT NULL,
       tax_free_allowance numeric(17,2) NOT NULL, taxes_paid numeric(17,2) NOT NULL, tax_transactions_total numeric(17,2) NOT NULL,
       allowance_remaining numeric(17,2) NOT NULL, tax_mismatch boolean NOT NULL, PRIMARY KEY (client, batch_date, client_reference))`,
  ],
  statements: [
    `DELETE FROM client_taxes WHERE ${slice}`,
    `WITH owned AS (SELECT DISTINCT client_reference, account_number FROM portfolio_links WHERE ${slice}),
     accounts_once AS (SELECT DISTINCT ON (account_number) account_number, taxes_paid FROM accounts WHERE ${slice} ORDER BY account_number, record_id),
     clients_once AS (SELECT DISTINCT ON (client_reference) client_reference, tax_free_allowance FROM clients WHERE ${slice} ORDER BY client_reference, record_id),
     paid AS (SELECT o.client_reference, sum(a.taxes_paid) AS total FROM owned o JOIN accounts_once a USING (account_number) GROUP BY o.client_reference),
     taxed AS (SELECT o.client_reference, sum(t.amount) AS total FROM owned o
               JOIN transactions t ON t.client = $1 AND t.batch_date = $2 AND t.account_number = o.account_number AND t.keyword = 'TAX'
               GROUP BY o.client_reference),
     figures AS (SELECT c.client_reference, c.tax_free_allowance, COALESCE(p.total, 0) AS paid, COALESCE(x.total, 0) AS taxed
                 FROM clients_once c LEFT JOIN paid p USING (client_reference) LEFT JOIN taxed x USING (client_reference))
     INSERT INTO client_taxes
     SELECT $1, $2::date, client_reference, tax_free_allowance, paid, taxed,
            CASE WHEN paid > 0 THEN 0 ELSE tax_free_allowance END, paid <> -taxed
     FROM figures`,
  ],
  // The client's figures on each of its linked portfolios.
  contributes: {
    select: `SELECT l.client, l.batch_date, l.portfolio_reference, x.tax_free_allowance, x.taxes_paid, x.tax_transactions_total,
               x.allowance_remaining, x.tax_mismatch
             FROM portfolio_links l JOIN client_taxes x ON x.client = l.client AND x.batch_date = l.batch_date AND x.client_reference = l.client_reference`,
    fields: { tax_free_allowance: 'money', taxes_paid: 'money', tax_transactions_total: 'money', allowance_remaining: 'money', tax_mismatch: 'boolean' },
  },
};

export const handler = transformerHandler(definition);
